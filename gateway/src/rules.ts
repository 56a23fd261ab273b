import type { RouteRule } from '@banyan/migration';

/**
 * A route rule compiled for the hot path (ADR 0213): its key in the routing table, the methods it
 * takes and its segments, literals lower-cased (the upstreams' routers match them so) or null for a
 * `:param`. The declaration refuses overlapping rules, so at most one matches a request.
 */
export interface CompiledRule {
  domain: string;
  name: string;
  /** `domain#name`: the rule's row in the routing table, its fence, its shadow report. */
  key: string;
  /** As `x-banyan-route` and the metrics' `rule` label name it: `domain.name`. */
  label: string;
  method: string;
  path: string;
  /** GET takes HEAD too, as express does. */
  methods: readonly string[];
  segments: ReadonlyArray<string | null>;
}

export const ruleKey = (domain: string, name: string) => `${domain}#${name}`;
/** The domain a routing key (`domain` or `domain#rule`) belongs to. */
export const domainOfKey = (key: string) => {
  const hash = key.indexOf('#');
  return hash === -1 ? key : key.slice(0, hash);
};

export function compileRule(domain: string, rule: RouteRule): CompiledRule {
  return {
    domain,
    name: rule.name,
    key: ruleKey(domain, rule.name),
    label: `${domain}.${rule.name}`,
    method: rule.method,
    path: rule.path,
    methods: rule.method === 'GET' ? ['GET', 'HEAD'] : [rule.method],
    segments: rule.path
      .slice(1)
      .split('/')
      .map((s) => (s.startsWith(':') ? null : s.toLowerCase())),
  };
}

/**
 * The rule of `rules` that a request matches, if any. Runs after classifyPath accepted the path
 * (no dot, empty or encoded separator segments), on the path without its query; allocates nothing.
 * A trailing "/" matches as without it, as the upstreams' routers (non-strict) take it.
 */
export function matchRule(rules: readonly CompiledRule[], method: string, url: string): CompiledRule | undefined {
  const q = url.indexOf('?');
  let end = q === -1 ? url.length : q;
  if (end > 1 && url.charCodeAt(end - 1) === 47 /* / */) end--;
  for (const rule of rules) {
    if (!rule.methods.includes(method)) continue;
    if (matches(rule.segments, url, end)) return rule;
  }
  return undefined;
}

function matches(segments: ReadonlyArray<string | null>, url: string, end: number): boolean {
  let pos = 1;
  for (let i = 0; i < segments.length; i++) {
    if (pos > end) return false;
    let next = url.indexOf('/', pos);
    if (next === -1 || next > end) next = end;
    const literal = segments[i];
    if (literal === null) {
      if (next === pos) return false;
    } else if (next - pos !== literal.length || !equalsLower(url, pos, literal)) {
      return false;
    }
    pos = next + 1;
  }
  return pos === end + 1;
}

/** url[pos, pos + literal.length) equals the lower-cased `literal`, ASCII case-insensitively. */
function equalsLower(url: string, pos: number, literal: string): boolean {
  for (let i = 0; i < literal.length; i++) {
    let c = url.charCodeAt(pos + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== literal.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A routing key as metric labels: `{ domain }` for a domain's row, `{ domain, rule: 'domain.name' }`
 * for a route rule's. A domain's series keep the labels they had before rules existed.
 */
export function keyLabels(key: string): { domain: string; rule?: string } {
  const hash = key.indexOf('#');
  if (hash === -1) return { domain: key };
  const domain = key.slice(0, hash);
  return { domain, rule: `${domain}.${key.slice(hash + 1)}` };
}
