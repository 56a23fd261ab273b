import CircuitBreaker from 'opossum';
import { AppError, Errors } from '@banyan/errors';
import { observeBreaker, type Logger } from '@banyan/telemetry';

export interface BreakerOptions {
  name: string;
  /** Consecutive failures that open it. */
  threshold: number;
  /** How long it stays open before one half-open probe. */
  resetMs: number;
  logger: Logger;
}

export interface Breaker<A extends unknown[], R> {
  breaker: CircuitBreaker<A, R>;
  /** Throws the service's own AppError as is, anything else as SERVICE.UNAVAILABLE (503). */
  fire(...args: A): Promise<R>;
}

/**
 * Guard calls to another process: after `threshold` consecutive failures the breaker opens and
 * every call fails at once with SERVICE.UNAVAILABLE (Retry-After: the time left until the probe);
 * after `resetMs` one call is let through, and its success closes it. Every remote door of the
 * monolith (payments, products) uses it, so they fail the same way.
 *
 * An AppError from the action is the service's answer (not found, out of stock): it passes through
 * and counts as a success, because the service is up. Any other error is a failure.
 */
export function createBreaker<A extends unknown[], R>(action: (...args: A) => Promise<R>, options: BreakerOptions): Breaker<A, R> {
  const breaker = new CircuitBreaker<A, R>(action, {
    name: options.name,
    // The action sets its own fetch timeout, which also aborts the request; opossum's would only
    // stop waiting while the request carried on.
    timeout: false,
    resetTimeout: options.resetMs,
    // opossum opens on an error percentage over a rolling window; the design asks for N failures
    // in a row, counted below. An unreachable volume threshold disables the percentage rule, while
    // a failed half-open probe still reopens the breaker (opossum checks that before the volume).
    volumeThreshold: Number.MAX_SAFE_INTEGER,
    errorFilter: (err: unknown) => err instanceof AppError,
  });

  let consecutive = 0;
  let openedAt = 0;
  breaker.on('success', () => {
    consecutive = 0;
  });
  breaker.on('failure', () => {
    consecutive++;
    if (consecutive >= options.threshold && !breaker.opened) breaker.open();
  });
  breaker.on('open', () => {
    openedAt = Date.now();
    options.logger.warn({ breaker: options.name, resetMs: options.resetMs }, 'circuit opened: failing fast');
  });
  breaker.on('halfOpen', () => options.logger.info({ breaker: options.name }, 'circuit half-open: probing'));
  breaker.on('close', () => {
    consecutive = 0;
    options.logger.info({ breaker: options.name }, 'circuit closed');
  });

  // banyan_breaker_state{breaker=name} on the process's /metrics, read at each scrape.
  observeBreaker(options.name, breaker);

  const retryAfter = () => Math.max(1, Math.ceil((options.resetMs - (Date.now() - openedAt)) / 1000));

  return {
    breaker,
    async fire(...args: A): Promise<R> {
      try {
        return await breaker.fire(...args);
      } catch (err) {
        if (err instanceof AppError) throw err;
        // `circuit` tells a caller (and, through it, a client) whether this call was tried and
        // failed, or was refused at once because the breaker is open.
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          throw withCircuit(Errors.unavailable(`${options.name} is unavailable (circuit open); try again shortly.`, retryAfter()), 'open');
        }
        options.logger.warn({ breaker: options.name, err: (err as Error).message }, 'remote call failed');
        throw withCircuit(Errors.unavailable(`${options.name} could not be reached; try again shortly.`, 5), 'closed');
      }
    },
  };
}

const withCircuit = (error: AppError, circuit: 'open' | 'closed') => {
  error.details.circuit = circuit;
  return error;
};
