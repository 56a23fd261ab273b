import { AppError } from '@banyan/errors';
import type { Side } from './domains';
import { UpstreamStatusError, UpstreamTimeoutError } from './proxy';

/** The gateway's own answers when an upstream gives none (docs/errors.md has each code). */
export const gatewayError = {
  badPath: (reason: string) => new AppError('GATEWAY.BAD_PATH', 400, `The request path is not acceptable: ${reason}.`),
  timeout: (side: Side) => new AppError('GATEWAY.UPSTREAM_TIMEOUT', 504, `The ${side} side did not answer in time.`),
  unreachable: (side: Side) => new AppError('GATEWAY.UPSTREAM_UNREACHABLE', 502, `The ${side} side could not be reached.`),
  busy: (side: Side) =>
    new AppError('GATEWAY.UPSTREAM_BUSY', 503, `Every connection to the ${side} side is in use; retry shortly.`, { retryAfter: 1 }),
  open: (side: Side, retryAfter: number) =>
    new AppError('GATEWAY.UPSTREAM_UNAVAILABLE', 503, `The ${side} side is failing and its circuit breaker is open; retry later.`, { retryAfter }),
};

/** Why an attempt failed: an upstream's 5xx, its deadline, a full socket pool, an open breaker, or no connection. */
export type FailureKind = 'open' | 'timeout' | 'status' | 'busy' | 'connect';

export function failureKind(err: unknown): FailureKind {
  if (err instanceof UpstreamStatusError) return 'status';
  if (err instanceof UpstreamTimeoutError) return 'timeout';
  if ((err as { code?: string }).code === 'EUPSTREAMBUSY') return 'busy';
  if ((err as { code?: string }).code === 'EOPENBREAKER') return 'open';
  return 'connect';
}
