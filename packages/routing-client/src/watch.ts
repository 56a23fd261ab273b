import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_ROUTE, writesTo, type RouteState, type RoutingView, type Side, type WriteTicket } from './routes';

export interface WatchRoutesOptions {
  /** The gateway's admin API, e.g. http://127.0.0.1:8081. */
  adminUrl: string;
  token: string;
  /** Between two reads when the gateway answers at once, and between two follower reports. Default 1 s. */
  intervalMs?: number;
  /**
   * Ask the gateway to hold each read until its table changes, up to this long, so a switch is
   * seen in milliseconds rather than at the next poll. A gateway that does not hold answers at
   * once and the view falls back to polling every `intervalMs`. 0 turns it off. Default 10 s.
   */
  longPollMs?: number;
  /**
   * Report to the gateway as a routing follower under this id (ADR 0303, third amendment): the
   * table version this process routes by and the domains it still has writes in flight to a side
   * they no longer go to. The gateway's switch fence waits for a live follower as for another
   * gateway instance. Unset, nothing is reported and writes decided here are not fenced.
   */
  followerId?: string;
  /** A write waits at most this long for a fence to come down, then goes, as the gateway's held writes do. Default 10 s. */
  fenceWaitMs?: number;
  onError?: (err: Error) => void;
}

/** While a write waits for a fence, the view re-reads the table this often. */
const FENCE_POLL_MS = 25;

interface Table {
  version: number;
  routes: Array<Partial<RouteState> & { domain: string }>;
}

/**
 * The monolith's view of the gateway's routing table, so an in-process door (products, payments)
 * or a consumer (notifications) follows the same switch the gateway makes. It reads the admin
 * API's `GET /routes` (held by the gateway until the table changes, see `longPollMs`) and keeps the
 * last known table when the gateway is unreachable: a routing outage must not flip a domain back
 * and forth.
 *
 * Production note: this uses the admin token. A real deployment would give followers a credential
 * that can read the table and report, and nothing else.
 */
export function watchRoutes(options: WatchRoutesOptions): RoutingView {
  const base = options.adminUrl.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${options.token}` };
  const intervalMs = options.intervalMs ?? 1000;
  const longPollMs = options.longPollMs ?? 10_000;
  const routes = new Map<string, RouteState>();
  const listeners = new Set<(next: RouteState, previous: RouteState) => void>();
  /** Writes in flight per domain and side (beginWrite … done). */
  const inflight = new Map<string, Record<Side, number>>();
  const stopping = new AbortController();
  let tableVersion = 0;
  let stopped = false;

  const get = (domain: string) => routes.get(domain) ?? DEFAULT_ROUTE(domain);
  const writingOld = () =>
    [...inflight].filter(([domain, counts]) => (['monolith', 'extracted'] as const).some((side) => counts[side] > 0 && side !== writesTo(get(domain)))).map(([d]) => d);

  // Reports are serialised and coalesced: one runs at a time, and one more runs after it if
  // asked meanwhile, so the gateway's row always ends with the latest state.
  let reporting: Promise<void> | undefined;
  let again = false;
  const report = (): Promise<void> => {
    if (!options.followerId || stopped) return Promise.resolve();
    if (reporting) {
      again = true;
      return reporting;
    }
    reporting = (async () => {
      do {
        again = false;
        try {
          const res = await fetch(`${base}/followers/${encodeURIComponent(options.followerId!)}`, {
            method: 'PUT',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ version: tableVersion, writingOld: writingOld() }),
            signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(2000)]),
          });
          await res.arrayBuffer();
          if (!res.ok) throw new Error(`PUT /followers answered ${res.status}`);
        } catch (err) {
          if (!stopped) options.onError?.(err as Error);
        }
      } while (again && !stopped);
    })().finally(() => {
      reporting = undefined;
    });
    return reporting;
  };

  const apply = (table: Table) => {
    // Two reads may cross (a held one and an explicit refresh): an older table never wins.
    if (table.version < tableVersion) return;
    const changedVersion = table.version > tableVersion;
    tableVersion = table.version;
    for (const route of table.routes) {
      const next: RouteState = { ...DEFAULT_ROUTE(route.domain), ...route, percent: route.percent ?? 0, fenced: route.fenced === true };
      const previous = get(route.domain);
      routes.set(route.domain, next);
      if (previous.mode !== next.mode || previous.percent !== next.percent) {
        for (const listener of listeners) listener(next, previous);
      }
    }
    if (changedVersion) void report();
  };

  const read = async (holdMs: number) => {
    const query = holdMs > 0 ? `?after=${tableVersion}&waitMs=${holdMs}` : '';
    const res = await fetch(`${base}/routes${query}`, { headers, signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(holdMs + 2000)]) });
    if (!res.ok) {
      await res.arrayBuffer();
      throw new Error(`GET /routes answered ${res.status}`);
    }
    apply((await res.json()) as Table);
  };

  let refreshing: Promise<void> | undefined;
  const refresh = () => {
    refreshing ??= read(0)
      .catch((err: Error) => {
        if (!stopped) options.onError?.(err);
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  // Node's own abortable timer: it lets go of its abort listener when it fires (a hand-made one
  // added a listener per wait, thousands a day on the follow loop). Unref'd, and ended by stop().
  const sleep = (ms: number) => delay(ms, undefined, { signal: stopping.signal, ref: false }).catch(() => undefined);

  // The follow loop: a held read answers at a change (read again at once) or after longPollMs;
  // an answer that came back sooner without a change (a gateway that does not hold) or an error
  // waits out the interval.
  void (async () => {
    await sleep(0);
    while (!stopped) {
      const started = Date.now();
      const before = tableVersion;
      try {
        await read(longPollMs);
      } catch (err) {
        if (!stopped) options.onError?.(err as Error);
      }
      if (tableVersion === before) await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  })();
  const heartbeat = options.followerId ? setInterval(() => void report(), intervalMs) : undefined;
  heartbeat?.unref();

  const count = (domain: string, side: Side, delta: number) => {
    const counts = inflight.get(domain) ?? { monolith: 0, extracted: 0 };
    counts[side] += delta;
    inflight.set(domain, counts);
    return counts[side];
  };

  return {
    get,
    isExtracted: (domain) => get(domain).mode === 'extracted',
    async beginWrite(domain): Promise<WriteTicket> {
      const deadline = Date.now() + (options.fenceWaitMs ?? 10_000);
      while (get(domain).fenced && !stopped && Date.now() < deadline) {
        await sleep(FENCE_POLL_MS);
        await refresh();
      }
      // Decided and counted in one step: a report can never see the side without the count.
      const side = writesTo(get(domain));
      count(domain, side, +1);
      let over = false;
      return {
        side,
        done() {
          if (over) return;
          over = true;
          // The last write to a side the domain no longer writes to: tell the gateway now, not at
          // the next heartbeat, so its fence comes down as soon as it may.
          if (count(domain, side, -1) === 0 && side !== writesTo(get(domain))) void report();
        },
      };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    stop() {
      if (stopped) return;
      stopped = true;
      if (heartbeat) clearInterval(heartbeat);
      stopping.abort();
      // Leave the followers the gateway waits for, so a stopped process is not waited for at all
      // (it would be forgotten after a few silent seconds anyway).
      if (options.followerId) {
        void fetch(`${base}/followers/${encodeURIComponent(options.followerId)}`, { method: 'DELETE', headers, signal: AbortSignal.timeout(2000) })
          .then((res) => res.arrayBuffer())
          .catch(() => undefined);
      }
    },
  };
}
