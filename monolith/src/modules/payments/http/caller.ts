import type { RequestHandler } from 'express';
import { bearerToken, secretMatches } from '@banyan/auth';
import { Errors } from '@banyan/errors';

/**
 * Only the payments door's own callers may charge and refund over HTTP (ADR 0311, 0314): a
 * customer's own token must not be enough to refund an order without cancelling it. The caller
 * (the extracted orders service) presents PAYMENTS_SERVICE_TOKEN, never the admin token; the
 * public gateway answers 404 for these paths before routing, so this check guards the monolith's
 * own port. Without a configured credential they refuse everyone.
 */
export function requireCaller(token: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const ok = secretMatches(bearerToken(req), token);
    next(ok ? undefined : Errors.unauthorized('Only the orders service may call this.'));
  };
}
