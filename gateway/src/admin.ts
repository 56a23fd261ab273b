import type { Express, RequestHandler } from 'express';
import { secretMatches } from '@banyan/auth';
import { Errors } from '@banyan/errors';
import { createHttpApp, finishHttpApp, parse } from '@banyan/http';
import type { Logger } from '@banyan/telemetry';
import { z } from '@banyan/config';
import { actorOf } from './actor';
import type { GatewayConfig } from './config';
import { MODES, type Domain } from './domains';
import { mountDashboardApi, mountDashboardPage, securityHeaders, type DashboardDeps } from './dashboard/routes';
import type { Metrics } from './metrics';
import { preflightFailed, reasonsOf, sideGaining, type Preflight, type PreflightResult } from './preflight';
import { mountRampApi, type RampApiDeps } from './ramp/api';
import type { ShadowRecorder } from './shadow';
import type { RouteStore } from './store';
import { describeStickyKey } from './sticky';
import type { RouteTable } from './table';
import type { CompiledRule } from './rules';
import { declaredDomain, declaredRule, type Topology } from './topology';
import { effectiveRow, type RouteRow } from './table';

interface AdminDeps {
  config: GatewayConfig;
  logger: Logger;
  metrics: Metrics;
  store: RouteStore;
  shadow: ShadowRecorder;
  topology: Topology;
  table: () => RouteTable;
  targets: (domain: Domain) => { monolith: string; extracted: string };
  isLoaded: () => boolean;
  isDatabaseReachable: () => boolean;
  reload: () => Promise<void>;
  /** Whether a switch's write fence is up for the domain on this instance. */
  isFenced: (domain: Domain) => boolean;
  /** Called after each change of the routing table this instance routes by; returns the unsubscribe. */
  onTableChange: (listener: () => void) => () => void;
  dashboard: Omit<DashboardDeps, 'topology' | 'shadow' | 'isDatabaseReachable'>;
  /** The checks before traffic moves to a side (docs/gateway.md#preflight). */
  preflight: Preflight;
  ramps: Omit<RampApiDeps, 'topology' | 'table'>;
}

/** A route change the routing database did not take. */
const CHANGE_NOT_MADE = { detail: 'The routing database is unreachable: the change was not made. The gateway keeps serving the last known table.', retryAfter: 5 };
const routeChange = z
  .object({
    mode: z.enum(MODES, { error: `mode must be one of ${MODES.join(', ')}` }),
    percent: z.number({ error: 'percent must be a number' }).int('percent must be a whole number').min(0, 'percent must be 0–100').max(100, 'percent must be 0–100').optional(),
    /** Switch even though the preflight failed; audited as forced, with the failed checks. */
    force: z.boolean({ error: 'force must be true or false' }).optional(),
  })
  .strict()
  .refine((c) => c.mode !== 'canary' || c.percent !== undefined, { message: 'canary needs a percent (0–100)', path: ['percent'] })
  .refine((c) => c.mode === 'canary' || c.percent === undefined, { message: 'percent applies only to canary', path: ['percent'] });

/** A route rule's change (ADR 0213): a mode like a domain's, or `{ inherit: true }` to follow the domain again. */
const ruleChange = z.union([z.object({ inherit: z.literal(true), force: z.boolean().optional() }).strict(), routeChange], {
  error: 'send { mode, percent? } as for a domain, or { inherit: true }',
});


/** A read of the table may be held until it passes a version (a routing follower's long poll), at most this long. */
const MAX_HOLD_MS = 25_000;
const routesQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  waitMs: z.coerce.number().int().min(0).max(MAX_HOLD_MS).optional(),
});

/** A process routing some writes itself reports what it routes by (ADR 0303, third amendment). */
const FOLLOWER_ID = /^[\w.:@-]{1,100}$/;
const followerReport = z
  .object({
    version: z.number().int().min(0),
    writingOld: z.array(z.string()).max(1000),
  })
  .strict();

export function createAdminApp(deps: AdminDeps): Express {
  const { topology } = deps;
  /** The declared domain a request names, or the unknown-domain problem. */
  const declared = (name: string): Domain => declaredDomain(topology, name);
  const adminLogger = deps.logger.child({ component: 'admin' });
  const app = createHttpApp({
    logger: adminLogger,
    // Ready once a routing table was read; a database lost later does not stop the gateway serving.
    readinessChecks: { routingTable: async () => deps.isLoaded() },
  });

  // Before the token check: the page and its script are public and hold no data.
  app.use(securityHeaders);
  mountDashboardPage(app, topology.names, Object.fromEntries(topology.names.map((d) => [d, topology.domain(d).rules.map((r) => r.name)])));

  const requireToken: RequestHandler = (req, res, next) => {
    const match = /^Bearer (.+)$/.exec(req.header('authorization') ?? '');
    if (match && secretMatches(match[1], deps.config.BANYAN_ADMIN_TOKEN)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="banyan-admin"');
    next(Errors.unauthorized('The admin API needs Authorization: Bearer $BANYAN_ADMIN_TOKEN.'));
  };
  app.use(requireToken);

  /**
   * The preflight of a change of `key` from `before` to `after`, when it moves client traffic to a
   * side: refused (409) when a check fails, unless forced; then the audit note says so.
   */
  const guard = async (what: string, domain: Domain, before: RouteRow, after: { mode: RouteRow['mode']; percent: number }, force: boolean) => {
    const side = sideGaining(before, after);
    if (!side) return {};
    let preflight: PreflightResult;
    try {
      preflight = await deps.preflight(domain, side);
    } catch (err) {
      // Its verify record is read from the routing database: unreachable, no change could be saved either.
      adminLogger.error({ err: (err as Error).message, domain: what }, 'preflight could not run');
      throw Errors.unavailable('The routing database is unreachable: the change was not made. The gateway keeps serving the last known table.', 5);
    }
    if (preflight.ok) return { preflight };
    if (!force) throw preflightFailed(what, preflight);
    adminLogger.warn({ domain: what, side, reasons: reasonsOf(preflight) }, 'switch forced past a failed preflight');
    return { preflight, note: `forced past a failed preflight: ${reasonsOf(preflight)}` };
  };

  /** A route rule as GET /routes shows it: its own row, and the mode that decides (its own or its domain's). */
  const describeRule = (rule: CompiledRule) => {
    const table = deps.table();
    const own = table.rules.get(rule.key);
    const inherit = !own || own.inherit === true;
    const effective = effectiveRow(table, rule.domain, rule.key);
    return {
      rule: rule.name,
      method: rule.method,
      path: rule.path,
      mode: inherit ? 'inherit' : effective.mode,
      percent: inherit ? null : effective.percent,
      effective: { mode: effective.mode, percent: effective.percent },
      version: own?.version ?? 0,
      fenced: deps.isFenced(rule.key),
      updatedAt: own?.updatedAt ?? null,
      updatedBy: own?.updatedBy ?? null,
    };
  };

  const describe = (domain: Domain) => {
    const row = deps.table().rows.get(domain)!;
    const rules = topology.domain(domain).rules;
    return {
      domain,
      mode: row.mode,
      percent: row.percent,
      stickyKey: describeStickyKey(topology.domain(domain).stickyKey, deps.config.GATEWAY_STICKY_COOKIE),
      targets: deps.targets(domain),
      version: row.version,
      // A switch's write fence is up here: a follower holds its own writes of the domain too.
      fenced: deps.isFenced(domain),
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
      // Only for a domain that declares route rules: the others' entries read as before.
      ...(rules.length ? { rules: rules.map(describeRule) } : {}),
    };
  };

  /** A write to the routing database, or 503 saying what was not done (the gateway keeps serving meanwhile), logged with `context`. */
  async function savedOr503<T>(save: () => Promise<T>, context: Record<string, unknown>, logged: string, answer: { detail: string; retryAfter: number }): Promise<T> {
    try {
      return await save();
    } catch (err) {
      adminLogger.error({ err: (err as Error).message, ...context }, logged);
      throw Errors.unavailable(answer.detail, answer.retryAfter);
    }
  }

  /** Until the table this instance routes by passes `after`, or `ms` pass, or the client leaves. */
  const tablePasses = (after: number, ms: number, res: { on(event: 'close', listener: () => void): unknown }) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = deps.onTableChange(() => {
        if (deps.table().version > after) done();
      });
      res.on('close', done);
    });

  app.get('/routes', async (req, res) => {
    const query = parse(routesQuery, req.query);
    if (query.after !== undefined && query.waitMs && deps.table().version <= query.after) {
      await tablePasses(query.after, query.waitMs, res);
      if (res.destroyed) return;
    }
    res.json({
      version: deps.table().version,
      source: deps.isDatabaseReachable() ? 'database' : 'last-known (database unreachable)',
      routes: topology.names.map(describe),
    });
  });

  app.put('/routes/:domain', async (req, res) => {
    const domain = declared(String(req.params.domain));
    const change = parse(routeChange, req.body ?? {});
    const actor = actorOf(req) ?? 'admin-token';
    const checked = await guard(domain, domain, deps.table().rows.get(domain)!, { mode: change.mode, percent: change.percent ?? 0 }, change.force === true);
    const result = await savedOr503(
      () => deps.store.update(domain, { mode: change.mode, percent: change.percent ?? 0, actor, remoteAddress: req.socket.remoteAddress, note: checked.note }),
      { domain },
      'route change not saved',
      CHANGE_NOT_MADE,
    );
    // This instance applies it now; the others hear the NOTIFY.
    await deps.reload();
    adminLogger.info({ domain, mode: change.mode, percent: change.percent, actor, changed: result.changed }, 'route changed');
    res.json({ changed: result.changed, route: describe(domain), ...(checked.preflight ? { preflight: checked.preflight } : {}) });
  });

  app.put('/routes/:domain/rules/:rule', async (req, res) => {
    const domain = declared(String(req.params.domain));
    const rule = declaredRule(topology, domain, String(req.params.rule));
    const change = parse(ruleChange, req.body ?? {});
    const actor = actorOf(req) ?? 'admin-token';
    const stored = 'inherit' in change ? { mode: 'monolith' as const, percent: 0, inherit: true } : { mode: change.mode, percent: change.percent ?? 0, inherit: false };
    const table = deps.table();
    const after = stored.inherit ? table.rows.get(domain)! : stored;
    const checked = await guard(`${domain} ${rule.method} ${rule.path}`, domain, effectiveRow(table, domain, rule.key), after, change.force === true);
    const result = await savedOr503(
      () => deps.store.update(rule.key, { mode: stored.mode, percent: stored.percent, inherit: stored.inherit, actor, remoteAddress: req.socket.remoteAddress, note: checked.note }),
      { domain, rule: rule.name },
      'route rule change not saved',
      CHANGE_NOT_MADE,
    );
    await deps.reload();
    adminLogger.info({ domain, rule: rule.name, ...change, actor, changed: result.changed }, 'route rule changed');
    res.json({ changed: result.changed, domain, rule: describeRule(rule), ...(checked.preflight ? { preflight: checked.preflight } : {}) });
  });

  /**
   * A routing follower (a monolith whose in-process doors route writes by this table) reports the
   * version it routes by and the domains it still has writes in flight to a side they no longer
   * go to. It is kept beside the gateway instances, so every instance's switch fence waits for it
   * as for another instance (ADR 0303, third amendment); silent for 3 s, it is no longer waited for.
   */
  app.put('/followers/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!FOLLOWER_ID.test(id)) throw Errors.validation([{ path: 'id', message: 'must be 1 to 100 letters, digits and . : @ - _' }]);
    const report = parse(followerReport, req.body ?? {});
    const writingOld = report.writingOld.map(declared);
    await savedOr503(() => deps.store.reportInstance(`follower:${id}`, report.version, writingOld), { follower: id }, 'follower report not saved', {
      detail: 'The routing database is unreachable: the report was not saved.',
      retryAfter: 1,
    });
    res.status(204).end();
  });

  app.delete('/followers/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!FOLLOWER_ID.test(id)) throw Errors.validation([{ path: 'id', message: 'must be 1 to 100 letters, digits and . : @ - _' }]);
    await deps.store.forgetInstance(`follower:${id}`);
    res.status(204).end();
  });

  app.get('/audit', async (req, res) => {
    const domain = typeof req.query.domain === 'string' ? declared(req.query.domain) : undefined;
    res.json({ items: await deps.store.audit(domain) });
  });

  app.get('/shadow/:domain', (req, res) => {
    const domain = declared(String(req.params.domain));
    const rules = topology.domain(domain).rules;
    // A domain's report counts the requests its own row decided; each route rule's is apart (ADR 0213).
    const report = deps.shadow.report(domain);
    res.json(rules.length ? { ...report, routeRules: rules.map((r) => ({ ...deps.shadow.report(r.key), domain, rule: r.name })) } : report);
  });

  app.get('/shadow/:domain/:rule', (req, res) => {
    const domain = declared(String(req.params.domain));
    const rule = declaredRule(topology, domain, String(req.params.rule));
    res.json({ ...deps.shadow.report(rule.key), domain, rule: rule.name });
  });

  mountRampApi(app, { ...deps.ramps, topology, table: deps.table });

  mountDashboardApi(app, { ...deps.dashboard, topology, shadow: deps.shadow, isDatabaseReachable: deps.isDatabaseReachable });

  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return finishHttpApp(app);
}
