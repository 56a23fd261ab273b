/**
 * A domain's path prefixes. The gateway forwards request targets byte for byte and refuses every
 * path whose meaning could change after decoding (gateway/src/paths.ts, ADR 0205); a prefix is held
 * to the same standard, so that what an operator declares is exactly what the gateway matches.
 * Prefixes match whole segments: `/api/products` covers `/api/products` and `/api/products/…`,
 * never `/api/productsX`.
 */

/** The characters of a path segment (RFC 3986 pchar) less `%` (no encoding) and `;` (matrix parameters). */
const SEGMENT = /^[A-Za-z0-9._~!$&'()*+,=:@-]+$/;

/** Why `prefix` cannot be a prefix, or undefined when it can. */
export function prefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return 'must start with "/"';
  if (prefix === '/') return 'must name at least one segment ("/" would take every path)';
  if (prefix.endsWith('/')) return 'must not end with "/" (prefixes match whole segments)';
  if (/[\x00-\x1f\x7f]/.test(prefix)) return 'must not contain control characters';
  if (prefix.includes('\\')) return 'must not contain "\\" (the gateway refuses backslashes)';
  if (prefix.includes('%')) return 'must not contain "%" (write the path decoded; the gateway refuses encoded paths)';
  if (prefix.includes('//')) return 'must not contain "//" (the gateway refuses empty segments)';
  if (/[?#]/.test(prefix)) return 'must be a path only, without "?" or "#"';
  const segments = prefix.slice(1).split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain "." or ".." segments (the gateway refuses dot segments)';
  const bad = segments.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) return `segment "${bad}" may hold only letters, digits and - . _ ~ ! $ & ' ( ) * + , = : @`;
  return undefined;
}

/** Whether a request path under `inner` is also under `outer` (equal, or nested below it). */
export const covers = (outer: string, inner: string) => inner === outer || inner.startsWith(`${outer}/`);

export interface PrefixOverlap {
  domain: string;
  index: number;
  prefix: string;
  other: { domain: string; index: number; prefix: string };
}

/**
 * Prefixes that two domains share or nest: a request under both would have two owners. Listed
 * from the inner prefix's side; a domain listing the same prefix twice is reported too.
 */
export function prefixOverlaps(domains: unknown): PrefixOverlap[] {
  // Called on a declaration that may be wrong elsewhere: only well-formed prefixes take part.
  if (typeof domains !== 'object' || domains === null) return [];
  const all = Object.entries(domains).flatMap(([domain, d]) => {
    const prefixes: unknown = (d as { prefixes?: unknown } | null)?.prefixes;
    if (!Array.isArray(prefixes)) return [];
    return prefixes.flatMap((prefix: unknown, index) => (typeof prefix === 'string' && !prefixProblem(prefix) ? [{ domain, index, prefix }] : []));
  });
  const overlaps: PrefixOverlap[] = [];
  for (const inner of all) {
    for (const outer of all) {
      if (inner === outer || !covers(outer.prefix, inner.prefix)) continue;
      const sameDomain = inner.domain === outer.domain;
      // Within one domain a nested prefix is redundant but harmless; a repeated one is a slip.
      if (sameDomain && inner.prefix !== outer.prefix) continue;
      // Equal prefixes: report each pair once, from the later one.
      if (inner.prefix === outer.prefix && all.indexOf(inner) < all.indexOf(outer)) continue;
      overlaps.push({ ...inner, other: outer });
    }
  }
  return overlaps;
}
