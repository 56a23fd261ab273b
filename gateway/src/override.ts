import type { IncomingHttpHeaders } from 'node:http';
import { secretMatches, type TokenVerifier } from '@banyan/auth';
import type { Side } from './domains';

export const ROUTE_HEADER = 'x-banyan-route';
/** Carries the admin token for a forced route, so it never has to travel in Authorization. */
export const TOKEN_HEADER = 'x-banyan-token';

/**
 * A tester may force a side with `x-banyan-route: monolith|extracted`, but only when the
 * request proves it is allowed to: the admin token in `x-banyan-token`, or a users-domain JWT
 * with the admin role, verified against the users side's JWKS. Anything else is ignored.
 */
export function createOverrideCheck(adminToken: string, verifier: TokenVerifier | undefined) {
  return async (headers: IncomingHttpHeaders): Promise<Side | undefined> => {
    const wanted = String(headers[ROUTE_HEADER]).trim().toLowerCase();
    if (wanted !== 'monolith' && wanted !== 'extracted') return undefined;
    const token = headers[TOKEN_HEADER];
    if (typeof token === 'string' && secretMatches(token, adminToken)) return wanted;
    const auth = headers.authorization;
    if (verifier && auth && auth.startsWith('Bearer ')) {
      try {
        const principal = await verifier.verify(auth.slice(7));
        if (principal.role === 'admin') return wanted;
      } catch {
        // An invalid token earns no override; the upstream will judge it for the request itself.
      }
    }
    return undefined;
  };
}
