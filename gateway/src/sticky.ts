import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { decodeJwt } from 'jose';
import type { StickyKey as DeclaredStickyKey } from '@banyan/migration';

export interface StickyKey {
  key: string;
  /** A cookie value the gateway must set because the client had neither a token nor the cookie. */
  newCookie?: string;
}

/**
 * Who the request is for, as stable as the request allows: what the domain's declaration keys on
 * (`stickyKey`: the JWT's subject by default, or a header or cookie the application already
 * sends), else the gateway's cookie, else a new cookie value. The JWT is decoded WITHOUT
 * verification: the result only chooses a bucket (a forged `sub` can at most pick a side the user
 * could also get by clearing cookies); it never authorises anything. Upstreams verify the token
 * themselves. A header or cookie value is taken as the client sends it, for the same reason.
 */
export function stickyKey(headers: IncomingHttpHeaders, cookieName: string, declared: DeclaredStickyKey = 'jwt-subject'): StickyKey {
  const key = declaredKey(headers, declared);
  if (key) return { key };
  const fromCookie = readCookie(headers.cookie, cookieName);
  if (fromCookie) return { key: `cookie:${fromCookie}` };
  const value = randomUUID();
  return { key: `cookie:${value}`, newCookie: value };
}

/** Longer values are cut: the key only picks a bucket, and a bounded one hashes in bounded time. */
const DECLARED_MAX = 256;

function declaredKey(headers: IncomingHttpHeaders, declared: DeclaredStickyKey): string | undefined {
  if (declared === 'jwt-subject') {
    const auth = headers.authorization;
    return auth && auth.startsWith('Bearer ') ? subjectKey(auth.slice(7)) : undefined;
  }
  if ('header' in declared) {
    const value = headers[declared.header];
    const first = Array.isArray(value) ? value[0] : value;
    return first ? `header:${first.slice(0, DECLARED_MAX)}` : undefined;
  }
  const value = cookieValue(headers.cookie, declared.cookie);
  return value ? `app-cookie:${value.slice(0, DECLARED_MAX)}` : undefined;
}

/** How the admin API and the dashboard describe a domain's key. */
export function describeStickyKey(declared: DeclaredStickyKey, cookieName: string): string {
  const first = declared === 'jwt-subject' ? 'jwt sub' : 'header' in declared ? `header ${declared.header}` : `cookie ${declared.cookie}`;
  return `${first}, else cookie ${cookieName}`;
}

/**
 * A client sends the same token on every request until it expires, and decoding it (base64url,
 * JSON, jose's checks) was the costliest step of a canary decision: the key is remembered per
 * token string. Bounded, and evicted oldest-first; `''` records "not a JWT with a subject".
 */
const SUBJECTS_MAX = 4096;
/** Longer tokens are decoded every time, so the cache stays within a few MB whatever clients send. */
const TOKEN_MAX_CACHED = 1024;
const subjects = new Map<string, string>();

function subjectKey(token: string): string | undefined {
  let key = subjects.get(token);
  if (key === undefined) {
    key = '';
    try {
      const sub = decodeJwt(token).sub;
      if (typeof sub === 'string' && sub) key = `sub:${sub}`;
    } catch {
      // Not a JWT: the caller falls through to the cookie.
    }
    if (token.length > TOKEN_MAX_CACHED) return key || undefined;
    if (subjects.size >= SUBJECTS_MAX) subjects.delete(subjects.keys().next().value!);
    subjects.set(token, key);
  }
  return key || undefined;
}

const COOKIE_VALUE = /^[A-Za-z0-9-]{8,64}$/;

function readCookie(header: string | undefined, name: string): string | undefined {
  const value = cookieValue(header, name);
  return value !== undefined && COOKIE_VALUE.test(value) ? value : undefined;
}

/** The first cookie called `name` in a Cookie header, unvalidated (each caller checks its own format). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const stickyCookieHeader = (name: string, value: string) =>
  `${name}=${value}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax`;

/**
 * The key's bucket, 0–99. Independent of the domain on purpose: the same users are the early
 * cohort on every domain in canary, so a person sees one consistent mix rather than a
 * different random subset of new code per page. Raising the percent only adds buckets, so
 * nobody moves back and forth while a rollout widens.
 */
export function bucketOf(key: string): number {
  // FNV-1a over UTF-16 code units, then murmur3's finaliser so the low bits (used by % 100)
  // are as mixed as the high ones. Not cryptographic; it need only be fast and uniform.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 100;
}
