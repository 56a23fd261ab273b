import { scrapedGauge } from './registry';

/** What a circuit breaker must say about itself (opossum's CircuitBreaker has both). */
export interface BreakerLike {
  readonly opened: boolean;
  readonly halfOpen: boolean;
}

const state = () =>
  scrapedGauge('banyan_breaker_state', 'Circuit breaker of a call to another process: 0 closed, 1 half-open, 2 open (same scale as banyan_gateway_breaker_state).', ['breaker'] as const);

/**
 * Export `breaker`'s state as `banyan_breaker_state{breaker=name}`, read at each scrape. A new
 * breaker of the same name (a rebuilt client) replaces the old one. An open breaker means the
 * percentage routed to a service is not the percentage served: the docs' "is it safe?" checks it.
 */
export function observeBreaker(name: string, breaker: BreakerLike): () => void {
  return state().add(name, (set) => set({ breaker: name }, breaker.opened ? 2 : breaker.halfOpen ? 1 : 0));
}
