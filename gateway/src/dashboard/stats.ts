import type { Domain, Side } from '../domains';
import type { Metrics } from '../metrics';

export interface SideRates {
  /** Answers per second sent back to clients by this side. */
  requestsPerSecond: number;
  /** Of those, 5xx answers per second. */
  errorsPerSecond: number;
  /** errorsPerSecond / requestsPerSecond; null when the side answered nothing in the window. */
  errorRate: number | null;
  /** Failed attempts per second (timeouts, refused connections, 5xx, open breaker), including those the monolith then answered for. */
  upstreamFailuresPerSecond: number;
}

export interface TrafficRates {
  /** The seconds the rates are averaged over (about WINDOW_MS once the dashboard has polled for a while). */
  windowSeconds: number;
  domains: Record<Domain, Record<Side, SideRates> & { fallbacksPerSecond: number }>;
}

/** Rates over roughly the last 10 s: long enough to smooth a 2 s poll, short enough to show a switch at once. */
export const WINDOW_MS = 10_000;

type Totals = Map<string, number>;
interface Snapshot {
  at: number;
  totals: Totals;
}

const SIDES: Side[] = ['monolith', 'extracted'];

async function totals(metrics: Metrics): Promise<Totals> {
  const out: Totals = new Map();
  const add = (key: string, value: number) => out.set(key, (out.get(key) ?? 0) + value);
  for (const v of (await metrics.requestsCounter.get()).values) {
    add(`req|${v.labels.domain}|${v.labels.side}`, v.value);
    if (v.labels.status === '5xx') add(`5xx|${v.labels.domain}|${v.labels.side}`, v.value);
  }
  for (const v of (await metrics.errors.get()).values) add(`fail|${v.labels.domain}|${v.labels.side}`, v.value);
  for (const v of (await metrics.fallbacks.get()).values) add(`fallback|${v.labels.domain}`, v.value);
  return out;
}

/**
 * Request and error rates computed from the gateway's own counters, so the dashboard needs no
 * Prometheus. No timer samples them: each call keeps a snapshot, and the rate is the difference
 * with the oldest snapshot still inside the window (or the newest one before it, when nobody
 * looked for a while: the rate then covers a longer time, and `windowSeconds` says so).
 */
export function createTrafficRates(metrics: Metrics, domainNames: readonly Domain[]) {
  const snapshots: Snapshot[] = [{ at: Date.now(), totals: new Map() }];

  return async function rates(): Promise<TrafficRates> {
    const now: Snapshot = { at: Date.now(), totals: await totals(metrics) };
    while (snapshots.length > 1 && snapshots[1].at <= now.at - WINDOW_MS) snapshots.shift();
    const base = snapshots[0];
    // Many tabs polling at once add no precision, only memory: one snapshot per quarter second.
    if (now.at - snapshots[snapshots.length - 1].at >= 250) snapshots.push(now);
    // A burst of calls in one millisecond must not divide by zero.
    const seconds = Math.max(now.at - base.at, 1) / 1000;
    const per = (key: string) => Math.max((now.totals.get(key) ?? 0) - (base.totals.get(key) ?? 0), 0) / seconds;

    const domains = {} as TrafficRates['domains'];
    for (const domain of domainNames) {
      const sides = {} as Record<Side, SideRates>;
      for (const side of SIDES) {
        const requestsPerSecond = per(`req|${domain}|${side}`);
        const errorsPerSecond = per(`5xx|${domain}|${side}`);
        sides[side] = {
          requestsPerSecond,
          errorsPerSecond,
          errorRate: requestsPerSecond > 0 ? errorsPerSecond / requestsPerSecond : null,
          upstreamFailuresPerSecond: per(`fail|${domain}|${side}`),
        };
      }
      domains[domain] = { ...sides, fallbacksPerSecond: per(`fallback|${domain}`) };
    }
    return { windowSeconds: seconds, domains };
  };
}
