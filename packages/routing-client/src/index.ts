export type RouteMode = 'monolith' | 'extracted' | 'canary' | 'shadow';

export interface RouteState {
  domain: string;
  mode: RouteMode;
  percent: number;
  version: number;
}

export interface RoutingView {
  /** The domain's current route as last seen; `monolith` until the gateway answered once. */
  get(domain: string): RouteState;
  /** Whether the domain's writes currently belong to its extracted service (mode `extracted`). */
  isExtracted(domain: string): boolean;
  /** Called after each change of a domain's route, with the new and previous states. */
  onChange(listener: (next: RouteState, previous: RouteState) => void): () => void;
  /** Fetch now (tests and start-up use it so the first decision is not a default). */
  refresh(): Promise<void>;
  stop(): void;
}

const DEFAULT = (domain: string): RouteState => ({ domain, mode: 'monolith', percent: 0, version: 0 });

/**
 * The monolith's view of the gateway's routing table, so an in-process door (payments) or a
 * consumer (notifications) follows the same switch the gateway makes. It polls the admin API's
 * `GET /routes` (once a second by default, matching the gateway's own 1 s propagation promise)
 * and keeps the last known table when the gateway is unreachable: a routing outage must not flip
 * a domain back and forth.
 *
 * Production note: this uses the admin token to read. A real deployment would give readers a
 * read-only credential, or push changes over the broker.
 */
export function watchRoutes(options: { adminUrl: string; token: string; intervalMs?: number; onError?: (err: Error) => void }): RoutingView {
  const routes = new Map<string, RouteState>();
  const listeners = new Set<(next: RouteState, previous: RouteState) => void>();
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> | undefined;

  const fetchOnce = async () => {
    const res = await fetch(`${options.adminUrl.replace(/\/$/, '')}/routes`, {
      headers: { authorization: `Bearer ${options.token}` },
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) throw new Error(`GET /routes answered ${res.status}`);
    const body = (await res.json()) as { routes: RouteState[] };
    for (const route of body.routes) {
      const next: RouteState = { domain: route.domain, mode: route.mode, percent: route.percent ?? 0, version: route.version ?? 0 };
      const previous = routes.get(route.domain) ?? DEFAULT(route.domain);
      routes.set(route.domain, next);
      if (previous.mode !== next.mode || previous.percent !== next.percent) {
        for (const listener of listeners) listener(next, previous);
      }
    }
  };

  const refresh = () => {
    inflight ??= fetchOnce()
      .catch((err: Error) => options.onError?.(err))
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  const schedule = () => {
    timer = setTimeout(() => void refresh().then(schedule), options.intervalMs ?? 1000);
    timer.unref();
  };
  schedule();

  return {
    get: (domain) => routes.get(domain) ?? DEFAULT(domain),
    isExtracted: (domain) => (routes.get(domain) ?? DEFAULT(domain)).mode === 'extracted',
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** A fixed view, for processes run without a gateway (every domain on the monolith). */
export function staticRoutes(modes: Record<string, RouteMode> = {}): RoutingView {
  return {
    get: (domain) => ({ ...DEFAULT(domain), mode: modes[domain] ?? 'monolith' }),
    isExtracted: (domain) => modes[domain] === 'extracted',
    onChange: () => () => undefined,
    refresh: async () => undefined,
    stop: () => undefined,
  };
}
