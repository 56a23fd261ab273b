import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Domain } from './domains';
import { cookieValue } from './sticky';

const PREFIX = 'banyan_w_';
const SIGNATURE_BYTES = 16;

/**
 * Read-your-writes during a canary (ADR 0304, amended). A canary sends a user's writes to the
 * domain's one writer, the monolith, and their reads to their bucket's side; on the service side
 * a read right after a write can miss it until the relay and the sync consumer have applied it.
 * After a write, the gateway gives the client a short-lived cookie per domain, signed and bound
 * to the user's sticky key, and sends that user's reads of the domain to the writer until it
 * expires: Rails' database selector does the same with a 2 s "last write" cookie.
 *
 * The cookie cannot steer anyone else: its signature (HMAC with a random key kept in the
 * gateway's database, so every instance shares it and no configured secret is exposed to offline
 * guessing) covers the domain, the expiry and the sticky key, so it is worth nothing for another
 * user, another domain or after it expires; at most it keeps its own user's reads on the
 * monolith, the side every request went to before the canary.
 */
export function createRecentWrites(key: () => Buffer | undefined, windowMs: number) {
  const sign = (secret: Buffer, domain: Domain, expires: number, stickyKey: string) =>
    createHmac('sha256', secret).update(`${domain}|${expires}|${stickyKey}`).digest().subarray(0, SIGNATURE_BYTES);
  const maxAge = Math.max(1, Math.ceil(windowMs / 1000));

  return {
    /** The Set-Cookie value that marks this user's write to `domain` (none before the key is loaded). */
    mark(domain: Domain, stickyKey: string, now = Date.now()): string | undefined {
      const secret = key();
      if (!secret) return undefined;
      const expires = now + windowMs;
      return `${PREFIX}${domain}=${expires}.${sign(secret, domain, expires, stickyKey).toString('base64url')}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax`;
    },
    /** Whether the request carries this user's unexpired mark for `domain`. */
    recent(cookieHeader: string | undefined, domain: Domain, stickyKey: string, now = Date.now()): boolean {
      // The common case costs one substring search.
      if (!cookieHeader || !cookieHeader.includes(PREFIX)) return false;
      const value = cookieValue(cookieHeader, `${PREFIX}${domain}`);
      const dot = value ? value.indexOf('.') : -1;
      if (!value || dot < 1) return false;
      const expires = Number(value.slice(0, dot));
      // A mark expires on its own; one claiming to last longer than the window was not made here.
      if (!Number.isSafeInteger(expires) || expires <= now || expires > now + windowMs) return false;
      const given = Buffer.from(value.slice(dot + 1), 'base64url');
      const secret = key();
      return secret !== undefined && given.length === SIGNATURE_BYTES && timingSafeEqual(given, sign(secret, domain, expires, stickyKey));
    },
  };
}

export type RecentWrites = ReturnType<typeof createRecentWrites>;
