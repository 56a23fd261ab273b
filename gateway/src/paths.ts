import type { Domain } from './domains';
import type { Topology } from './topology';

export type PathVerdict =
  /** `domain` null: under no domain's prefix, forwarded to the monolith as it is (ADR 0215). */
  | { ok: true; domain: Domain | null }
  | { ok: false; status: 400 | 404; reason: string };

const MAX_URL_LENGTH = 4096;
/** Anything that could change a path's meaning after decoding; clean paths skip the slow checks. */
const SUSPICIOUS = /[%\\;#]|\/\.|\/\/|[\x00-\x1f\x7f]/;
const ENCODED_SEPARATOR = /%(2f|5c)/i;
/** What a second decode by some upstream would turn into a separator or a dot segment. */
const DOUBLE_ENCODED = /%(2e|2f|5c|25)/i;

const NOT_FOUND = (reason: string): PathVerdict => ({ ok: false, status: 404, reason });
const BAD = (reason: string): PathVerdict => ({ ok: false, status: 400, reason });

/**
 * Decide which domain a request target belongs to, or refuse it. The gateway forwards the target
 * byte for byte, so instead of rewriting an ambiguous path (and risking a disagreement with the
 * upstream's own normalisation) it refuses every form whose meaning could differ between the two:
 * dot segments, encoded or doubled separators, backslashes, double encoding, control characters.
 * The domain is the one whose declared prefix covers the path (topology.ts; the longest, when a
 * domain declares nested ones: the declaration allows no prefix shared by two domains). Prefixes
 * are matched case-sensitively on whole segments, so `/API/Orders` or `/api/usersX` reach no
 * domain: 404, or with the declaration's pass-through (ADR 0215) the monolith, unless the path is
 * a domain's in another spelling or under the monolith's internal prefixes.
 */
export function classifyPath(url: string, topology: Pick<Topology, 'prefixes' | 'domain' | 'passThrough'>): PathVerdict {
  if (url.length > MAX_URL_LENGTH) return BAD('request target too long');
  if (url.charCodeAt(0) !== 47 /* / */) return BAD('request target must be origin-form (start with /)');
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (SUSPICIOUS.test(path)) {
    const reason = suspiciousReason(path);
    if (reason) return BAD(reason);
  }
  // The path itself, then each shorter whole-segment prefix of it, longest first: `/a/b/c`,
  // `/a/b`, `/a`. Every declared prefix met on the way belongs to the same domain, and the
  // segment after each is checked against its internal ones.
  // No declared prefix is deeper than the deepest one: start there, not at the path's end, so a
  // long path costs no slice and lookup per segment below the prefixes.
  const depth = deepestPrefix(topology.prefixes);
  let first = path.length;
  for (let i = 0, seen = 0; i < path.length; i++) {
    if (path.charCodeAt(i) === 47 /* / */ && ++seen === depth + 1) {
      first = i;
      break;
    }
  }
  let domain: Domain | undefined;
  for (let end = first; end > 0; end = path.lastIndexOf('/', end - 1)) {
    const owner = topology.prefixes.get(end === path.length ? path : path.slice(0, end));
    if (owner === undefined) continue;
    domain = owner;
    if (end < path.length && isInternal(topology.domain(owner).internal, path.slice(end + 1))) return NOT_FOUND('internal endpoint');
  }
  if (domain !== undefined) return { ok: true, domain };
  if (!topology.passThrough) return NOT_FOUND('no such domain prefix');
  // Forwarded as it is, so judged as the monolith's router would read it: a domain's path in
  // another spelling (`/API/books`, `/api/%62ooks`) would reach the domain's code in the monolith
  // around its routing and fence, and a monolith internal path must stay refused however spelled.
  const loose = loosePath(path);
  const under = (prefix: string) => loose === prefix || loose.startsWith(`${prefix}/`);
  if (topology.passThrough.domainPrefixes.some(under)) return NOT_FOUND("a domain's path in another spelling");
  if (topology.passThrough.internal.some(under)) return NOT_FOUND("the monolith's internal path");
  return PASS_THROUGH;
}

const PASS_THROUGH: PathVerdict = { ok: true, domain: null };

/**
 * A path as an express upstream would match it: each segment percent-decoded, without a `;…`
 * parameter some other framework would drop, lower-cased (express routes case-insensitively by
 * default). The path already passed the checks above: valid encoding, no encoded separator, no
 * dot or empty segment (a `;…`-only segment counts as empty).
 */
function loosePath(path: string): string {
  if (!SUSPICIOUS.test(path)) return path.toLowerCase();
  return path
    .split('/')
    .map(looseSegment)
    .join('/');
}

function looseSegment(segment: string): string {
  return decodeURIComponent(segment).split(';', 1)[0].toLowerCase();
}

/** How many segments the deepest declared prefix has (`/api/products`: 2), worked out once per prefix map. */
const depths = new WeakMap<ReadonlyMap<string, string>, number>();
function deepestPrefix(prefixes: ReadonlyMap<string, string>): number {
  let depth = depths.get(prefixes);
  if (depth === undefined) {
    depth = Math.max(0, ...[...prefixes.keys()].map((p) => p.split('/').length - 1));
    depths.set(prefixes, depth);
  }
  return depth;
}

/**
 * Whether the path after a domain's prefix starts with one of its internal segments (the
 * declaration's `internal`). The upstreams are express apps, which match routes case-insensitively
 * and ignore a trailing slash (`/api/payments/Charges/` reaches `/charges`), so the segment is
 * compared as loosely: lowercased, percent-decoded, and without a `;…` parameter some other
 * framework would drop. A false positive costs a 404 on a path no public route has; a false
 * negative would open the internal API.
 */
function isInternal(internal: ReadonlySet<string>, rest: string): boolean {
  if (internal.size === 0) return false;
  const end = rest.indexOf('/');
  try {
    return internal.has(looseSegment(end === -1 ? rest : rest.slice(0, end)));
  } catch {
    return true;
  }
}

function suspiciousReason(path: string): string | undefined {
  if (path.includes('\\')) return 'backslash in path';
  // An origin-form target has no fragment; a router that parses one would read a shorter path.
  if (path.includes('#')) return 'fragment (#) in request target';
  if (ENCODED_SEPARATOR.test(path)) return 'encoded path separator';
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'malformed percent-encoding';
  }
  if (/[\x00-\x1f\x7f]/.test(decoded)) return 'control character in path';
  if (decoded.includes('\\')) return 'backslash in path';
  if (DOUBLE_ENCODED.test(decoded)) return 'double percent-encoding';
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    // `..;x` is a dot segment to servlet-style matrix-parameter parsers.
    const bare = segments[i].split(';', 1)[0];
    if (bare === '.' || bare === '..') return 'dot segment in path';
    if (segments[i] === '' && i < segments.length - 1) return 'empty path segment (//)';
    // `/;x/admin` is `//admin` to a router that drops parameters, and then `/admin` to one that merges slashes.
    if (bare === '' && segments[i] !== '') return 'empty path segment before a ; parameter';
  }
  return undefined;
}
