import { z } from 'zod';
import { covers } from './prefixes';

/**
 * Route rules: one method and one path pattern inside a domain (`GET /api/books/:id`), which the
 * gateway can route apart from the rest of its domain (ADR 0213). The pattern is held to the
 * standard of a prefix (no encoding, no dot or empty segments, exact characters) plus `:name`
 * parameters, each standing for exactly one non-empty segment. No wildcards: a rule's reach is what
 * a reviewer reads. Two rules a request could both match are refused, so at most one rule ever
 * decides a request and there is no precedence to learn.
 */

export const RULE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type RuleMethod = (typeof RULE_METHODS)[number];

const RULE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()+,=@-]+$/;
const PARAM = /^:[A-Za-z_][A-Za-z0-9_]*$/;

export const routeRuleSchema = z
  .strictObject({
    name: z.string().regex(RULE_NAME, 'must be a lower-case name (a-z, 0-9, _ -, starting with a letter, at most 63)').optional(),
    method: z.enum(RULE_METHODS, { error: `must be one of ${RULE_METHODS.join(', ')}` }),
    path: z.string().superRefine((path, ctx) => {
      const problem = patternProblem(path);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  })
  .describe('One method and path pattern of the domain ("/api/books/:id") that the gateway can route apart from the rest of the domain.');

export type RouteRuleDeclaration = z.input<typeof routeRuleSchema>;

/** Why `path` cannot be a rule's pattern on its own (its domain's prefixes are checked apart). */
export function patternProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with "/"';
  if (path.endsWith('/')) return 'must not end with "/"';
  if (/[?#%\\]/.test(path) || /[\x00-\x1f\x7f]/.test(path)) return 'must be a decoded path only: no "?", "#", "%", "\\" or control characters';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'must not contain "//" (the gateway refuses empty segments)';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (segment.startsWith(':')) {
      if (!PARAM.test(segment)) return `parameter "${segment}" must be ":" and a name (letters, digits, _)`;
    } else if (!LITERAL.test(segment)) {
      return `segment "${segment}" may hold only letters, digits and - . _ ~ ! $ & ' ( ) + , = @ (":name" for a parameter; no wildcards such as "*")`;
    }
  }
  return undefined;
}

/** The name a rule gets when the declaration gives none: `get-api-books-id`. */
export const defaultRuleName = (method: string, path: string) =>
  `${method}${path.replace(/[/:]+/g, '-')}`.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);

/** A method a rule of `method` also answers: a GET rule takes HEAD, as the upstreams' routers do. */
const methodsOf = (method: string) => (method === 'GET' ? ['GET', 'HEAD'] : [method]);

/** Whether one request path could match both patterns (same length, every segment compatible). */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  if (x.length !== y.length) return false;
  // Literals after the prefix are compared as the upstreams' routers do: case-insensitively.
  return x.every((s, i) => s.startsWith(':') || y[i].startsWith(':') || s.toLowerCase() === y[i].toLowerCase());
}

export interface RuleProblem {
  index: number;
  field: 'name' | 'path';
  message: string;
}

/** Cross-rule problems of one domain: a path outside its prefixes or under an internal segment, duplicate names, overlaps. */
export function ruleProblems(rules: ReadonlyArray<{ name?: string; method: string; path: string }>, prefixes: readonly string[], internal: readonly string[]): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const names = new Map<string, number>();
  rules.forEach((rule, index) => {
    if (patternProblem(rule.path)) return;
    const prefix = prefixes.filter((p) => covers(p, rule.path)).sort((p, q) => q.length - p.length)[0];
    if (!prefix) {
      problems.push({ index, field: 'path', message: `must lie under one of the domain's prefixes (${prefixes.join(', ')})` });
      return;
    }
    const first = rule.path.slice(prefix.length + 1).split('/', 1)[0];
    if (first && internal.includes(first.toLowerCase())) problems.push({ index, field: 'path', message: `"${first}" is an internal segment of the domain: the gateway refuses it before any rule` });
    const name = rule.name ?? defaultRuleName(rule.method, rule.path);
    const seen = names.get(name);
    if (seen !== undefined) problems.push({ index, field: 'name', message: `"${name}" is also the name of routes[${seen}]` });
    else names.set(name, index);
    for (let j = 0; j < index; j++) {
      const other = rules[j];
      if (patternProblem(other.path)) continue;
      const methods = methodsOf(rule.method);
      if (!methodsOf(other.method).some((m) => methods.includes(m))) continue;
      if (patternsOverlap(rule.path, other.path))
        problems.push({ index, field: 'path', message: `${rule.method} ${rule.path} overlaps routes[${j}] (${other.method} ${other.path}): a request could match both` });
    }
  });
  return problems;
}
