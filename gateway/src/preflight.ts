import http from 'node:http';
import { AppError } from '@banyan/errors';
import { otherSide, type Domain, type Mode, type Side } from './domains';
import type { SyncLag } from './fence-outbox';
import type { VerifyRecord } from './verify-runs';

export type CheckName = 'ready' | 'breaker' | 'sync-lag' | 'verify';

export interface PreflightCheck {
  check: CheckName;
  ok: boolean;
  /** What was found, in a sentence an operator can act on. */
  detail: string;
  /** The check could not apply (no sync declared, nothing to read): passed, and says why. */
  skipped?: boolean;
}

export interface PreflightResult {
  domain: Domain;
  /** The side traffic would move to. */
  side: Side;
  ok: boolean;
  checks: PreflightCheck[];
  ms: number;
}

export interface PreflightOptions {
  /** The URL of a domain's side (the monolith's, or its service's). */
  target: (domain: Domain, side: Side) => string;
  /** That side's breaker on this instance; 'unused' before its first request. */
  breaker: (url: string) => 'closed' | 'open' | 'half-open' | 'unused';
  /** Whether the domain declares a data spec (a sync between the sides). */
  hasSync: (domain: Domain) => boolean;
  /** How far `to` is behind `from`; undefined when it cannot be read. */
  lag: (domain: Domain, from: Side, to: Side) => Promise<SyncLag | undefined>;
  lastVerify: (domain: Domain) => Promise<VerifyRecord | undefined>;
  timeoutMs: number;
  maxLagMs: number;
  /** 0: any age, and never verified passes (said so). */
  verifyMaxAgeMs: number;
}


/** The share of a row's client answers the extracted side gives (a shadow's copies answer no client). */
const extractedShare = (row: { mode: Mode; percent: number }) => (row.mode === 'extracted' ? 100 : row.mode === 'canary' ? row.percent : 0);

/**
 * The side a change moves client traffic to, if any: the extracted side when its share grows, the
 * monolith when it shrinks. A switch to or from shadow moves no client answer (the monolith keeps
 * answering), nor does re-sending the same mode.
 */
export function sideGaining(before: { mode: Mode; percent: number }, after: { mode: Mode; percent: number }): Side | undefined {
  const from = extractedShare(before);
  const to = extractedShare(after);
  return to > from ? 'extracted' : to < from ? 'monolith' : undefined;
}

/**
 * Before traffic moves to a side (docs/gateway.md#preflight): its target answers /readyz, its
 * breaker on this instance is closed, its sync has caught up with the side it leaves (within
 * `maxLagMs`) and the domain's last verify found the two databases equal. The four run at once;
 * a healthy side passes in the time of one /readyz round trip and two small queries.
 */
export function createPreflight(options: PreflightOptions) {
  const ready = async (url: string): Promise<PreflightCheck> => {
    const probe = new URL('/readyz', url).href;
    try {
      const { status, text } = await probeReady(probe, options.timeoutMs);
      if (status >= 200 && status < 300) return { check: 'ready', ok: true, detail: `${probe} answered ${status}` };
      return { check: 'ready', ok: false, detail: `${probe} answered ${status}${text ? `: ${text}` : ''}` };
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return { check: 'ready', ok: false, detail: `${probe} did not answer within ${options.timeoutMs} ms` };
      const code = (err as { code?: string }).code ?? (err as Error).message;
      return { check: 'ready', ok: false, detail: `${probe} cannot be reached (${code})` };
    }
  };

  const breaker = (url: string): PreflightCheck => {
    const state = options.breaker(url);
    if (state === 'closed' || state === 'unused') return { check: 'breaker', ok: true, detail: `the breaker of ${new URL(url).host} is closed` };
    return { check: 'breaker', ok: false, detail: `the breaker of ${new URL(url).host} is ${state}: it failed recently` };
  };

  const syncLag = async (domain: Domain, side: Side): Promise<PreflightCheck> => {
    if (!options.hasSync(domain)) return { check: 'sync-lag', ok: true, skipped: true, detail: `${domain} declares no data sync: nothing can lag` };
    let lag: SyncLag | undefined;
    try {
      lag = await options.lag(domain, otherSide(side), side);
    } catch (err) {
      return { check: 'sync-lag', ok: false, detail: `the sync lag of ${domain} could not be read: ${(err as Error).message}` };
    }
    if (!lag) return { check: 'sync-lag', ok: true, skipped: true, detail: `the ${side} side of ${domain} keeps no sequence counters: its lag cannot be read` };
    const ms = Math.round(lag.seconds * 1000);
    const counts = `${lag.unpublished} unpublished, ${lag.unapplied} not yet applied`;
    if (ms <= options.maxLagMs) return { check: 'sync-lag', ok: true, detail: `the ${side} side is ${ms} ms behind (${counts}; bound ${options.maxLagMs} ms)` };
    return { check: 'sync-lag', ok: false, detail: `the ${side} side is ${ms} ms behind the ${otherSide(side)} side (${counts}), over the bound of ${options.maxLagMs} ms` };
  };

  const verify = async (domain: Domain): Promise<PreflightCheck> => {
    if (!options.hasSync(domain)) return { check: 'verify', ok: true, skipped: true, detail: `${domain} declares no data spec: nothing to verify` };
    const last = await options.lastVerify(domain);
    const maxAge = options.verifyMaxAgeMs;
    if (!last) {
      if (maxAge === 0) return { check: 'verify', ok: true, skipped: true, detail: `${domain} was never verified (set GATEWAY_PREFLIGHT_VERIFY_MAX_AGE_MS to require it)` };
      return { check: 'verify', ok: false, detail: `${domain} was never verified: run \`banyan verify ${domain}\` or verify it from the dashboard` };
    }
    const age = Date.now() - Date.parse(last.finishedAt);
    const when = `the last verify (${last.finishedAt}, by ${last.recordedBy})`;
    if (last.error) return { check: 'verify', ok: false, detail: `${when} could not compare: ${last.error}` };
    if (last.differences > 0) return { check: 'verify', ok: false, detail: `${when} found ${last.differences} differences in ${last.compared} rows` };
    if (maxAge > 0 && age > maxAge) return { check: 'verify', ok: false, detail: `${when} is ${Math.round(age / 1000)} s old, older than ${Math.round(maxAge / 1000)} s` };
    return { check: 'verify', ok: true, detail: `${when} compared ${last.compared} rows: no differences` };
  };

  return async function preflight(domain: Domain, side: Side): Promise<PreflightResult> {
    const started = Date.now();
    const url = options.target(domain, side);
    const checks = await Promise.all([ready(url), Promise.resolve(breaker(url)), syncLag(domain, side), verify(domain)]);
    return { domain, side, ok: checks.every((c) => c.ok), checks, ms: Date.now() - started };
  };
}

export type Preflight = ReturnType<typeof createPreflight>;

/**
 * GET a target's /readyz: its status and the start of its body. A probe, not a call of the
 * target's API: it goes around the upstream's breaker (whose state is a check of its own) and
 * through no pooled socket, so a probe neither trips nor warms what traffic uses.
 */
function probeReady(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { signal: AbortSignal.timeout(timeoutMs), agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 200) text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: text.slice(0, 200) }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(err.name === 'AbortError' ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : err));
  });
}

/** The failed checks, one clause each. */
export const reasonsOf = (result: PreflightResult) =>
  result.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.check}: ${c.detail}`)
    .join('; ');

/** The refusal of a switch whose preflight failed (409 GATEWAY.PREFLIGHT_FAILED), every check in `checks`. */
export const preflightFailed = (what: string, result: PreflightResult) =>
  new AppError('GATEWAY.PREFLIGHT_FAILED', 409, `${what} → ${result.side} refused by its preflight: ${reasonsOf(result)}. Send "force": true (banyan route --force) to switch anyway; it is audited as forced.`, {
    side: result.side,
    checks: result.checks,
  });
