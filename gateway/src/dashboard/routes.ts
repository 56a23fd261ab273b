import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Express, RequestHandler } from 'express';
import { AppError } from '@banyan/errors';
import { parse } from '@banyan/http';
import { z } from '@banyan/config';
import type { VerifyRecord } from '../verify-runs';
import { actorOf } from '../actor';
import type { ShadowRecorder } from '../shadow';
import { declaredDomain, type Topology } from '../topology';
import { HISTORY_MS, type History } from './history';
import { renderChart } from './charts';
import type { OutboxReader } from './outbox';
import { renderPage } from './page';
import type { TrafficRates } from './stats';
import type { VerifyRunner } from './verify';

export interface BreakerView {
  upstream: string;
  url: string;
  domains: string[];
  state: 'closed' | 'open' | 'half-open';
  /** False until the first request: the breaker does not exist yet, so it cannot be open. */
  used: boolean;
}

export interface DashboardDeps {
  topology: Topology;
  shadow: ShadowRecorder;
  rates: () => Promise<TrafficRates>;
  breakers: () => BreakerView[];
  isDatabaseReachable: () => boolean;
  outbox: OutboxReader;
  verifier: VerifyRunner;
  /** The last hour per domain, for the charts. */
  history: History;
  /** Keep a verify's result where every instance's preflight reads it. */
  recordVerify: (run: VerifyRecord) => Promise<void>;
}

/** A verify run elsewhere (`banyan verify`), reported for the preflight. */
const verifyReport = z
  .object({
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    compared: z.number().int().min(0),
    differences: z.number().int().min(0),
    error: z.string().max(2_000).optional(),
  })
  .strict();

/**
 * The assets live in gateway/dashboard/, outside src, so tsc never has to copy them: from
 * src/dashboard (jest) and from dist/dashboard (node) the folder is two levels up.
 */
const ASSETS = path.join(__dirname, '..', '..', 'dashboard');
const ASSET_TYPES: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'dashboard.css': 'text/css; charset=utf-8' };

/**
 * No inline script or style, nothing from another origin, no framing, no form posting
 * anywhere (the login form is handled by the script): an injected string in a shadow body can
 * at worst be displayed.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // The charts are fetched with the token and shown from blob: URLs (an <img> cannot send a header).
  "img-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

/** The page and its two files: public, since they hold no data. `rules`: each domain's route rules' names. */
export function mountDashboardPage(app: Express, domains: readonly string[], rules: Readonly<Record<string, readonly string[]>> = {}): void {
  const page = renderPage(domains, rules);
  const assets = new Map(Object.entries(ASSET_TYPES).map(([name, type]) => [name, { type, body: readFileSync(path.join(ASSETS, name)) }]));
  app.get('/', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(page);
  });
  app.get('/dashboard/:file', (req, res, next) => {
    const asset = assets.get(String(req.params.file));
    if (!asset) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Type', asset.type);
    res.send(asset.body);
  });
}

const noSpec = (domain: string) => new AppError('GATEWAY.NO_SYNC_SPEC', 404, `"${domain}" has no backfill/verify spec: only extracted domains can be verified.`);

/** The data the page polls; mounted after the token check. */
export function mountDashboardApi(app: Express, deps: DashboardDeps): void {
  app.get('/stats', async (_req, res) => {
    const rates = await deps.rates();
    const domains = Object.fromEntries(
      deps.topology.names.map((d) => {
        const { mismatches: _m, rules: _r, domain: _d, ...shadow } = deps.shadow.report(d);
        return [d, { ...rates.domains[d], shadow }];
      }),
    );
    res.json({
      at: new Date().toISOString(),
      windowSeconds: rates.windowSeconds,
      routingDatabase: deps.isDatabaseReachable() ? 'reachable' : 'unreachable',
      domains,
      breakers: deps.breakers(),
    });
  });

  app.get('/outbox', async (_req, res) => {
    res.json({ databases: await deps.outbox.read() });
  });

  /** A domain's last hour as an SVG image (charts.ts): traffic split, 5xx per side, p50/p99 per side, shadow match rate. */
  app.get('/charts/:domain', (req, res) => {
    const domain = declaredDomain(deps.topology, String(req.params.domain));
    res.setHeader('Cache-Control', 'no-store');
    res.type('image/svg+xml').send(renderChart(domain, deps.history.series(domain), Date.now(), HISTORY_MS));
  });

  app.get('/verify', (_req, res) => {
    res.json({ domains: deps.verifier.domains(deps.topology.names), running: deps.verifier.running(), results: deps.verifier.results() });
  });

  /** `banyan verify` reports its result here, so the preflight of the next switch sees it (docs/gateway.md#preflight). */
  app.put('/verify/:domain/result', async (req, res) => {
    const domain = declaredDomain(deps.topology, String(req.params.domain));
    if (!deps.verifier.domains([domain]).length) throw noSpec(domain);
    const report = parse(verifyReport, req.body ?? {});
    const actor = actorOf(req);
    await deps.recordVerify({ domain, ...report, recordedBy: actor ? `cli ${actor}` : 'cli' });
    res.status(204).end();
  });

  app.post('/verify/:domain', async (req, res) => {
    const domain = declaredDomain(deps.topology, String(req.params.domain));
    if (!deps.verifier.domains([domain]).length) throw noSpec(domain);
    res.json(await deps.verifier.start(domain));
  });
}
