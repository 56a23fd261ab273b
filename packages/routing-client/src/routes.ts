export type RouteMode = 'monolith' | 'extracted' | 'canary' | 'shadow';
/** Which side of a domain takes its writes. */
export type Side = 'monolith' | 'extracted';

export interface RouteState {
  domain: string;
  mode: RouteMode;
  percent: number;
  version: number;
  /**
   * A switch's write fence is up at the gateway (ADR 0303): the old side's writes are still being
   * published or applied, so a write decided in this process waits (`beginWrite`) as the gateway's
   * own held writes do. False from a gateway that does not say.
   */
  fenced: boolean;
}

/** One write of a domain decided in this process, counted in flight until `done()`. */
export interface WriteTicket {
  /** Where the write goes: the service while the domain is `extracted`, the monolith otherwise. */
  side: Side;
  /** Call once the write is over: for a write inside a transaction, when the transaction has ended. */
  done(): void;
}

export interface RoutingView {
  /** The domain's current route as last seen; `monolith` until the gateway answered once. */
  get(domain: string): RouteState;
  /** Whether the domain's writes currently belong to its extracted service (mode `extracted`). */
  isExtracted(domain: string): boolean;
  /**
   * Start a write that this process routes itself (an in-process door calling a module or its
   * service): waits while the domain's fence is up at the gateway, then names the side and counts
   * the write in flight until `done()`. A following view reports those counts to the gateway, whose
   * switch fence then waits for this process's writes to an old side as it waits for its own.
   */
  beginWrite(domain: string): Promise<WriteTicket>;
  /** Called after each change of a domain's route, with the new and previous states. */
  onChange(listener: (next: RouteState, previous: RouteState) => void): () => void;
  /** Fetch now (tests and start-up use it so the first decision is not a default). */
  refresh(): Promise<void>;
  stop(): void;
}

export const DEFAULT_ROUTE = (domain: string): RouteState => ({ domain, mode: 'monolith', percent: 0, version: 0, fenced: false });

/** Where a route sends writes: a canary and a shadow split reads only (ADR 0304). */
export const writesTo = (route: Pick<RouteState, 'mode'>): Side => (route.mode === 'extracted' ? 'extracted' : 'monolith');

/**
 * One write a process routes itself, to the side the routing table names when it starts: waits
 * while the domain's fence is up, counts the call in flight there until it answers (so the
 * gateway's switch fence waits for it, ADR 0303), and runs that side's call. For an in-process
 * door choosing between a module and its service, or a service between another's two sides.
 */
export async function routedWrite<T>(routing: Pick<RoutingView, 'beginWrite'>, domain: string, calls: Record<Side, () => Promise<T>>): Promise<T> {
  const ticket = await routing.beginWrite(domain);
  try {
    return await calls[ticket.side]();
  } finally {
    ticket.done();
  }
}
