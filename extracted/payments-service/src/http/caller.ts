import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { bearerToken } from '@banyan/auth';
import { Errors } from '@banyan/errors';

/**
 * Only the monolith's payments door may charge and refund (ADR 0311): these routes are reachable
 * through the gateway like every /api/payments path, and a customer's own token must not be
 * enough to refund an order without cancelling it. Without a configured credential they refuse
 * everyone.
 */
export function requireCaller(token: string | undefined): RequestHandler {
  const expected = token ? Buffer.from(token) : undefined;
  return (req, _res, next) => {
    const given = Buffer.from(bearerToken(req) ?? '');
    const ok = expected !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
    next(ok ? undefined : Errors.unauthorized('Only the payments door of the monolith may call this.'));
  };
}
