import type { RequestHandler } from 'express';
import { bearerToken, secretMatches } from '@banyan/auth';
import { Errors } from '@banyan/errors';

/**
 * Only the monolith's payments door may charge and refund (ADR 0311): a customer's own token must
 * not be enough to refund an order without cancelling it. The door presents a credential of its
 * own (PAYMENTS_SERVICE_TOKEN), never the admin token; the public gateway answers 404 for these
 * paths before routing (gateway/src/domains.ts), so this check guards the service's own port.
 * Without a configured credential they refuse everyone.
 */
export function requireCaller(token: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const ok = secretMatches(bearerToken(req), token);
    next(ok ? undefined : Errors.unauthorized('Only the payments door of the monolith may call this.'));
  };
}
