import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compare a presented secret with the expected one in constant time. Both are hashed first so
 * the comparison takes the same time whatever the presented length (timingSafeEqual alone
 * would throw on, and so reveal, a length mismatch).
 */
export function secretMatches(presented: string | undefined, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
