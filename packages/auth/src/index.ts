import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { Errors } from '@banyan/errors';

export { secretMatches } from './secret';

export const TOKEN_ISSUER = 'banyan-users';
export const TOKEN_AUDIENCE = 'banyan';
/** Only the users domain's signing algorithm is accepted: `none` and HMAC tokens are refused. */
export const TOKEN_ALGORITHMS = ['ES256'];

/**
 * `service`: another process of the system calling an internal endpoint (e.g. the monolith's
 * products door at the products service); the users domain signs these only for its own callers.
 */
export type Role = 'customer' | 'admin' | 'service';

const ROLES: readonly Role[] = ['customer', 'admin', 'service'];

export interface Principal {
  userId: string;
  email: string;
  role: Role;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/**
 * Verify tokens with the users domain's public keys. In the monolith the key set is read
 * in-process; an extracted service fetches it from the JWKS URL. Either way it is cached and read
 * again on an unknown `kid` (a rotated key, ADR 0332), so no process but users ever holds a secret.
 */
export function createTokenVerifier(keys: { jwks: JSONWebKeySet } | { jwksUrl: string } | { getKey: () => Promise<JSONWebKeySet> }): TokenVerifier {
  let getKey: JWTVerifyGetKey;
  if ('jwks' in keys) {
    getKey = createLocalJWKSet(keys.jwks);
  } else if ('jwksUrl' in keys) {
    getKey = createRemoteJWKSet(new URL(keys.jwksUrl), { cooldownDuration: 5_000, cacheMaxAge: 10 * 60_000 });
  } else {
    let cached: { getKey: JWTVerifyGetKey; readAt: number } | undefined;
    const read = async () => (cached = { getKey: createLocalJWKSet(await keys.getKey()), readAt: Date.now() });
    getKey = async (header, token) => {
      const current = cached ?? (await read());
      try {
        return await current.getKey(header, token);
      } catch (err) {
        // A key announced since the set was read (a rotation): read it again, at most once a
        // second, so tokens naming made-up kids cannot make every request read the key set.
        if (err instanceof joseErrors.JWKSNoMatchingKey && Date.now() - current.readAt > 1_000) return (await read()).getKey(header, token);
        throw err;
      }
    };
  }
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, getKey, {
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          algorithms: TOKEN_ALGORITHMS,
        });
        const role = ROLES.includes(payload.role as Role) ? (payload.role as Role) : 'customer';
        if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') throw Errors.unauthorized('The token lacks its subject.');
        return { userId: payload.sub, email: payload.email, role };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw Errors.unauthorized('The token has expired: log in again.');
        if (err instanceof joseErrors.JOSEError) throw Errors.unauthorized('The token is not valid.');
        throw err;
      }
    },
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export function bearerToken(req: Request): string | undefined {
  const header = req.header('authorization');
  const match = header?.match(/^Bearer ([A-Za-z0-9._~+/=-]+)$/);
  return match?.[1];
}

/** Require a valid token; the principal is then on `req.principal`. */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (!token) return next(Errors.unauthorized());
    try {
      req.principal = await verifier.verify(token);
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    if (!req.principal) return next(Errors.unauthorized());
    if (req.principal.role !== role) return next(Errors.forbidden(`This needs the ${role} role.`));
    next();
  };
}

/** The principal of an authenticated request (after `authenticate`). */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw Errors.unauthorized();
  return req.principal;
}
