import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compare a presented secret (a bearer token, an admin token) with the expected one in constant
 * time. Both are hashed first, so the comparison takes the same time whatever the presented
 * length: timingSafeEqual alone throws on a length mismatch, and checking the lengths before it
 * tells an attacker how long the secret is.
 */
export function secretMatches(presented: string | undefined, expected: string | undefined): boolean {
  if (typeof presented !== 'string' || typeof expected !== 'string' || expected === '') return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
