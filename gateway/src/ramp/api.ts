import type { Express } from 'express';
import { AppError } from '@banyan/errors';
import { parse } from '@banyan/http';
import type { Logger } from '@banyan/telemetry';
import { z } from '@banyan/config';
import { actorOf } from '../actor';
import type { RouteStore } from '../store';
import { effectiveRow, type RouteTable } from '../table';
import { declaredDomain, declaredRule, type Topology } from '../topology';
import { DEFAULT_THRESHOLDS } from './gates';
import type { RampStore, RowState } from './store';

export interface RampApiDeps {
  topology: Topology;
  table: () => RouteTable;
  ramps: RampStore;
  routes: RouteStore;
  reload: () => Promise<void>;
  logger: Logger;
}

const rate = z.number().min(0).max(1);

const rampRequest = z
  .object({
    domain: z.string().min(1).max(100),
    rule: z.string().min(1).max(100).optional(),
    steps: z
      .array(z.union([z.literal('shadow'), z.number().int().min(1, 'a step is a percent from 1 to 100').max(100, 'a step is a percent from 1 to 100')]))
      .min(1, 'give at least one step')
      .max(20, 'at most 20 steps')
      .refine((steps) => steps.every((s, i) => (s === 'shadow' ? i === 0 : i === 0 || steps[i - 1] === 'shadow' || (steps[i - 1] as number) < s)), {
        message: 'steps must rise (shadow only first), e.g. [1, 5, 25, 50, 100]',
      }),
    holdMs: z.number().int().min(50, 'holdMs must be at least 50').max(86_400_000, 'holdMs must be at most a day'),
    thresholds: z
      .object({
        maxErrorRate: rate,
        maxP99Ratio: z.number().min(1),
        p99FloorMs: z.number().min(0),
        maxMismatchRate: rate,
        maxLagMs: z.number().int().min(0),
        minRequests: z.number().int().min(1).max(1_000_000),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

const idParam = (raw: string) => {
  if (!/^\d{1,15}$/.test(raw)) throw new AppError('GATEWAY.UNKNOWN_RAMP', 404, `No ramp "${raw.slice(0, 32)}".`);
  return Number(raw);
};

/**
 * The ramp's admin API (docs/gateway.md#ramp): start one, list them, read one, abort one. The
 * driving is the driver's (driver.ts), on whichever instance holds the ramp's lease.
 */
export function mountRampApi(app: Express, deps: RampApiDeps): void {
  const { topology, ramps } = deps;

  app.post('/ramps', async (req, res) => {
    const body = parse(rampRequest, req.body ?? {});
    const domain = declaredDomain(topology, body.domain);
    const key = body.rule ? declaredRule(topology, domain, body.rule).key : domain;
    const table = deps.table();
    const own = key === domain ? table.rows.get(domain)! : table.rules.get(key);
    const current = effectiveRow(table, domain, key);
    const fromRow: RowState = own && !own.inherit ? { mode: own.mode, percent: own.percent } : { mode: current.mode, percent: current.percent, inherit: true };
    const actor = actorOf(req) ?? 'admin-token';
    const ramp = await ramps.create({ key, steps: body.steps, holdMs: body.holdMs, thresholds: { ...DEFAULT_THRESHOLDS, ...body.thresholds }, fromRow, actor });
    deps.logger.info({ ramp: ramp.id, key, steps: ramp.steps, holdMs: ramp.holdMs, actor }, 'ramp started');
    res.status(201).json(ramp);
  });

  app.get('/ramps', async (req, res) => {
    const domain = typeof req.query.domain === 'string' ? declaredDomain(topology, req.query.domain) : undefined;
    const keys = domain ? [domain, ...topology.domain(domain).rules.map((r) => r.key)] : undefined;
    res.json({ items: await ramps.list(keys) });
  });

  app.get('/ramps/:id', async (req, res) => {
    const ramp = await ramps.get(idParam(String(req.params.id)));
    if (!ramp) throw new AppError('GATEWAY.UNKNOWN_RAMP', 404, `No ramp ${String(req.params.id)}.`);
    res.json(ramp);
  });

  /** Stop a running ramp and send its traffic back to where it was before the ramp, audited. */
  app.post('/ramps/:id/abort', async (req, res) => {
    const id = idParam(String(req.params.id));
    const actor = actorOf(req) ?? 'admin-token';
    const aborted = await ramps.locked(id, null, async (trx, ramp) => {
      const to = ramp.fromRow;
      await deps.routes.update(ramp.key, { mode: to.mode, percent: to.percent, inherit: to.inherit ?? false, actor, note: `ramp ${id} aborted by ${actor}` }, trx);
      return ramps.save(trx, id, {
        status: 'aborted',
        reason: `aborted by ${actor}`,
        verdict: { step: ramp.steps[ramp.stepIndex], outcome: 'aborted', reasons: [`aborted by ${actor}`], driver: 'admin', at: new Date().toISOString() },
      });
    });
    if (!aborted) {
      const ramp = await ramps.get(id);
      if (!ramp) throw new AppError('GATEWAY.UNKNOWN_RAMP', 404, `No ramp ${id}.`);
      throw new AppError('GATEWAY.RAMP_NOT_RUNNING', 409, `Ramp ${id} is ${ramp.status} already: nothing to abort.`);
    }
    await deps.reload();
    deps.logger.warn({ ramp: id, key: aborted.key, actor }, 'ramp aborted');
    res.json(aborted);
  });
}
