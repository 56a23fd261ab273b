import { updatePath } from './paths';
import type { Rules } from './scenario';

/** One request and its response, as the runner saw them. */
export interface Exchange {
  step: string;
  method: string;
  /** After templating: the concrete path sent. */
  path: string;
  requestBody?: unknown;
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: unknown;
  rules: Rules;
}

/** An exchange with everything that may legitimately differ between two targets replaced by a placeholder. */
export interface NormalisedStep {
  step: string;
  request: string;
  requestBody?: unknown;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Compared by default: content-type (the problem+json promise) and location (where a created
 * resource lives). Everything else — dates, etags, request and trace ids — is per process.
 */
export const DEFAULT_HEADERS = ['content-type', 'location'];
/** The gateway's own headers say which side answered; they differ by design between routes. */
const NEVER_COMPARED = /^x-banyan-/;
/** Cursors are opaque: each side may encode its position its own way. */
const CURSOR_KEYS = new Set(['nextCursor', 'cursor']);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g;
const CURSOR_PARAM = /([?&]cursor=)[^&#]*/g;

export interface NormaliseOptions {
  /**
   * Literal strings that are unique to this run (the run id in emails and SKUs): replaced with
   * `<run>` so two runs that used different unique values still compare equal.
   */
  runValues?: string[];
}

/**
 * Normalise one scenario's exchanges together, because ids are numbered across the whole
 * scenario: the product created in step 1 is `<uuid:1>` wherever it appears later, so "step 3
 * returned the product step 1 created" is still checked even though the raw ids differ.
 */
export function normaliseExchanges(exchanges: Exchange[], options: NormaliseOptions = {}): NormalisedStep[] {
  const scalars = (value: unknown) => rewriteStrings(value, (s) => maskScalars(s, options.runValues ?? []));
  const staged = exchanges.map((exchange) => {
    const rules = exchange.rules;
    let doc: Record<string, unknown> = {
      status: exchange.status,
      headers: pickHeaders(exchange.headers, rules.headers ?? []),
      body: clone(exchange.body),
    };
    for (const path of rules.ignore ?? []) doc = updatePath(doc, path, () => '<ignored>') as typeof doc;
    for (const path of rules.shape ?? []) doc = updatePath(doc, path, shapeOf) as typeof doc;
    doc = scalars(maskCursors(doc)) as typeof doc;
    for (const { pattern, as } of rules.mask ?? []) doc = rewriteStrings(doc, (s) => s.replace(new RegExp(pattern, 'g'), as)) as typeof doc;
    for (const path of rules.unordered ?? []) doc = updatePath(doc, path, sortIgnoringIds) as typeof doc;
    return {
      step: exchange.step,
      request: scalars(`${exchange.method} ${exchange.path.replace(CURSOR_PARAM, '$1<cursor>')}`) as string,
      requestBody: exchange.requestBody === undefined ? undefined : scalars(maskCursors(clone(exchange.requestBody))),
      status: doc.status as number,
      headers: doc.headers as Record<string, string>,
      body: doc.body,
    };
  });

  const numbering = new Map<string, number>();
  const number = (s: string) =>
    s.replace(UUID, (id) => {
      const key = id.toLowerCase();
      if (!numbering.has(key)) numbering.set(key, numbering.size + 1);
      return `<uuid:${numbering.get(key)}>`;
    });
  // Numbered in the order a reader meets them: request, then headers, then body with sorted keys.
  return staged.map((step) => {
    const out: NormalisedStep = { step: step.step, request: number(step.request), status: step.status, headers: {}, body: undefined };
    if (step.requestBody !== undefined) out.requestBody = rewriteStrings(sortKeys(step.requestBody), number);
    out.headers = rewriteStrings(sortKeys(step.headers), number) as Record<string, string>;
    out.body = rewriteStrings(sortKeys(step.body), number);
    return out;
  });
}

function pickHeaders(headers: Record<string, string>, extra: string[]): Record<string, string> {
  const allowed = new Set([...DEFAULT_HEADERS, ...extra.map((h) => h.toLowerCase())]);
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!allowed.has(lower) || NEVER_COMPARED.test(lower)) continue;
    // `application/json; charset=utf-8` and `application/json;charset=UTF-8` mean the same.
    picked[lower] = lower === 'content-type' ? value.toLowerCase().replace(/\s*;\s*/g, '; ') : value;
  }
  return picked;
}

function maskScalars(s: string, runValues: string[]): string {
  // Tokens first: a run value may well sit inside a token's payload (its email).
  let out = s.replace(JWT, '<jwt>');
  for (const value of runValues) if (value) out = out.split(value).join('<run>');
  return out.replace(ISO_TIME, '<time>');
}

function maskCursors(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskCursors);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = CURSOR_KEYS.has(key) && typeof child === 'string' ? '<cursor>' : maskCursors(child);
  }
  return out;
}

/** Arrays keep their length, objects their keys; only the kinds of the leaves remain. */
export function shapeOf(value: unknown): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return `<${typeof value}>`;
}

/**
 * Sorted by content with ids masked, so the order is the same on both targets even though
 * their ids differ; ids are numbered afterwards, in the sorted order. Elements that differ only
 * by id keep their relative order (the sort is stable), which is the best anyone can do for them.
 */
function sortIgnoringIds(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const key = (v: unknown) => JSON.stringify(sortKeys(v)).replace(UUID, '<uuid>');
  return value
    .map((v) => ({ v, k: key(v) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map(({ v }) => v);
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

function rewriteStrings(value: unknown, rewrite: (s: string) => string): unknown {
  if (typeof value === 'string') return rewrite(value);
  if (Array.isArray(value)) return value.map((v) => rewriteStrings(v, rewrite));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteStrings(v, rewrite)]));
}

const clone = <T>(value: T): T => (value === undefined ? value : structuredClone(value));
