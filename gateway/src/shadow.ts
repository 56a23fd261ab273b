import http from 'node:http';
import zlib from 'node:zlib';
import type { Operation } from 'rfc6902';
import { compare, compileRules, noisyPaths, parseBody, type Captured, type CompiledRules } from './compare';
import type { CompareRules, Domain, Side } from './domains';
import type { Metrics } from './metrics';
import { keyLabels } from './rules';

/** Bodies larger than this are compared by their first MAX_BODY bytes only, and say so. */
export const MAX_BODY = 1024 * 1024;

export interface Exchange {
  side: Side;
  status: number;
  body: unknown;
  requestId: string;
  traceparent: string | null;
}

export interface Mismatch {
  at: string;
  method: string;
  path: string;
  statusMatch: boolean;
  diff: Operation[];
  primary: Exchange;
  candidate: Exchange;
}

export interface ShadowReport {
  domain: Domain;
  compared: number;
  matched: number;
  mismatched: number;
  errors: number;
  skipped: number;
  matchRate: number | null;
  noise: boolean;
  rules: CompareRules;
  mismatches: Mismatch[];
}

export interface ShadowSample extends Captured {
  requestId: string;
  traceparent: string | null;
}

/** Decode the body for comparison when the upstream compressed it. */
export function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  const opts = { maxOutputLength: MAX_BODY * 4 };
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body, opts);
    case 'br':
      return zlib.brotliDecompressSync(body, opts);
    case 'deflate':
      return zlib.inflateSync(body, opts);
    default:
      return body;
  }
}

/** A plain request to one upstream, body collected up to MAX_BODY, for shadow copies and noise probes. */
export function fetchSample(
  target: URL,
  options: { method: string; path: string; headers: http.OutgoingHttpHeaders; agent: http.Agent; timeoutMs: number },
): Promise<ShadowSample> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, method: options.method, path: options.path, headers: options.headers, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_BODY) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              body: decodeBody(Buffer.concat(chunks), res.headers['content-encoding'] as string | undefined),
              requestId: String(res.headers['x-request-id'] ?? options.headers['x-request-id'] ?? ''),
              traceparent: (res.headers.traceparent as string | undefined) ?? (options.headers.traceparent as string | undefined) ?? null,
            });
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`shadow request timed out after ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

interface DomainState {
  compared: number;
  matched: number;
  errors: number;
  skipped: number;
  mismatches: Mismatch[];
  rules: CompareRules;
  compiled: CompiledRules;
}

/**
 * Keeps each domain's comparison counts and its most recent mismatches (a ring of bounded
 * size: an always-failing candidate must not grow memory).
 */
export function createShadowRecorder(options: { rules: ReadonlyMap<Domain, CompareRules>; maxMismatches: number; noise: boolean; metrics: Metrics }) {
  const states = new Map<Domain, DomainState>();
  for (const [domain, rules] of options.rules) {
    states.set(domain, { compared: 0, matched: 0, errors: 0, skipped: 0, mismatches: [], rules, compiled: compileRules(rules) });
  }
  const rate = (s: DomainState) => (s.compared ? s.matched / s.compared : null);

  return {
    noise: options.noise,

    record(
      domain: Domain,
      request: { method: string; path: string },
      primary: { side: Side; sample: ShadowSample },
      candidate: { side: Side; sample: ShadowSample },
      primaryAgain?: ShadowSample,
    ): boolean {
      const s = states.get(domain)!;
      const noise = primaryAgain ? noisyPaths(parseBody(primary.sample), parseBody(primaryAgain), s.compiled) : [];
      const result = compare(primary.sample, candidate.sample, s.compiled, noise);
      s.compared++;
      if (result.match) s.matched++;
      else {
        s.mismatches.push({
          at: new Date().toISOString(),
          method: request.method,
          path: request.path,
          statusMatch: result.statusMatch,
          diff: result.diff,
          primary: { side: primary.side, status: primary.sample.status, body: result.primaryBody, requestId: primary.sample.requestId, traceparent: primary.sample.traceparent },
          candidate: { side: candidate.side, status: candidate.sample.status, body: result.candidateBody, requestId: candidate.sample.requestId, traceparent: candidate.sample.traceparent },
        });
        if (s.mismatches.length > options.maxMismatches) s.mismatches.shift();
      }
      options.metrics.shadowComparisons.labels({ ...keyLabels(domain), result: result.match ? 'match' : 'mismatch' }).inc();
      options.metrics.shadowMatchRate.labels(keyLabels(domain)).set(rate(s) ?? 1);
      return result.match;
    },

    error(domain: Domain) {
      states.get(domain)!.errors++;
      options.metrics.shadowComparisons.labels({ ...keyLabels(domain), result: 'error' }).inc();
    },

    skipped(domain: Domain) {
      states.get(domain)!.skipped++;
      options.metrics.shadowComparisons.labels({ ...keyLabels(domain), result: 'skipped' }).inc();
    },

    report(domain: Domain): ShadowReport {
      const s = states.get(domain)!;
      return {
        domain,
        compared: s.compared,
        matched: s.matched,
        mismatched: s.compared - s.matched,
        errors: s.errors,
        skipped: s.skipped,
        matchRate: rate(s),
        noise: options.noise,
        rules: s.rules,
        mismatches: [...s.mismatches].reverse(),
      };
    },
  };
}

export type ShadowRecorder = ReturnType<typeof createShadowRecorder>;
