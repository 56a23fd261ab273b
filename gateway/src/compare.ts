import { createPatch, type Operation } from 'rfc6902';
import type { CompareRules } from './domains';

export interface Captured {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface Comparison {
  match: boolean;
  statusMatch: boolean;
  /** RFC 6902 operations turning the primary's (canonical) body into the candidate's. */
  diff: Operation[];
  primaryBody: unknown;
  candidateBody: unknown;
}

const isJson = (contentType: string) => /[/+]json\b/i.test(contentType);

export function parseBody(c: Captured): unknown {
  const text = c.body.toString('utf8');
  if (isJson(c.contentType) && text) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A pointer pattern split into segments; `*` matches any one segment. */
const compile = (pattern: string) => pattern.split('/').slice(1);

function matches(pattern: string[], path: string[]): boolean {
  if (pattern.length !== path.length) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] !== '*' && pattern[i] !== path[i]) return false;
  return true;
}

function prefixMatches(pattern: string[], path: string[]): boolean {
  if (pattern.length > path.length) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] !== '*' && pattern[i] !== path[i]) return false;
  return true;
}

/** Stable serialisation with sorted keys, so equal values sort equal regardless of key order. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Remove ignored fields and sort order-insensitive arrays, recursively, into a new value. */
export function canonicalise(value: unknown, rules: { ignore: string[][]; unordered: string[][] }, path: string[] = []): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v, i) => canonicalise(v, rules, [...path, String(i)]));
    if (rules.unordered.some((p) => matches(p, path))) items.sort((a, b) => (stable(a) < stable(b) ? -1 : stable(a) > stable(b) ? 1 : 0));
    return items;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const child = [...path, k];
      if (rules.ignore.some((p) => matches(p, child))) continue;
      out[k] = canonicalise(v, rules, child);
    }
    return out;
  }
  return value;
}

export function compileRules(rules: CompareRules) {
  return { ignore: rules.ignore.map(compile), unordered: rules.unordered.map(compile) };
}
export type CompiledRules = ReturnType<typeof compileRules>;

/**
 * Diffy's idea: differences that also appear between two answers of the primary to the same
 * request are noise (timestamps, random ids), not regressions. Returns the paths to drop.
 */
export function noisyPaths(primary: unknown, primaryAgain: unknown, rules: CompiledRules): string[][] {
  return createPatch(canonicalise(primary, rules), canonicalise(primaryAgain, rules)).map((op) => compile(op.path));
}

export function compare(primary: Captured, candidate: Captured, rules: CompiledRules, noise: string[][] = []): Comparison {
  const primaryBody = parseBody(primary);
  const candidateBody = parseBody(candidate);
  const statusMatch = primary.status === candidate.status;
  let diff = createPatch(canonicalise(primaryBody, rules), canonicalise(candidateBody, rules));
  if (noise.length) diff = diff.filter((op) => !noise.some((n) => prefixMatches(n, compile(op.path))));
  return { match: statusMatch && diff.length === 0, statusMatch, diff, primaryBody, candidateBody };
}
