import { Router } from 'express';
import { authenticate, requireRole, type TokenVerifier } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import { parse } from '@banyan/http';
import { z } from 'zod';
import type { AnalyticsRepository } from '../data/repository';
import { addDays, daysInRange, DEFAULT_RANGE_DAYS, isCalendarDate, MAX_RANGE_DAYS, todayUtc } from '../domain/date-range';
import { salesReport } from '../domain/sales-report';
import { topProducts } from '../domain/top-products';

const date = z.string().refine(isCalendarDate, 'Use a calendar date written YYYY-MM-DD.');

/** Defaults: `to` today (UTC), `from` so that the range is the last 30 days. */
const salesQuery = z
  .object({ from: date.optional(), to: date.optional() })
  .transform(({ from, to }) => {
    const end = to ?? todayUtc();
    return { from: from ?? addDays(end, 1 - DEFAULT_RANGE_DAYS), to: end };
  })
  .superRefine(({ from, to }, ctx) => {
    if (from > to) ctx.addIssue({ code: 'custom', path: ['from'], message: '`from` must not be after `to`.' });
    else if (daysInRange(from, to) > MAX_RANGE_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `The range may span at most ${MAX_RANGE_DAYS} days.` });
  });

const topQuery = z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) });

/**
 * Where the module has one store, the service has one per projection version: each request reads
 * the live version, inside a transaction that keeps it from being dropped under the read.
 */
export type ReadLive = <T>(read: (deps: { knex: Knex; store: AnalyticsRepository }) => Promise<T>) => Promise<T>;

export function analyticsRouter(deps: { readLive: ReadLive; verifier: TokenVerifier }): Router {
  const router = Router();
  // The whole shop's revenue and best sellers are the business's figures, not a customer's.
  router.use(authenticate(deps.verifier), requireRole('admin'));

  router.get('/sales', async (req, res) => {
    const { from, to } = parse(salesQuery, req.query);
    res.json(await deps.readLive((live) => salesReport(live, from, to)));
  });

  router.get('/top-products', async (req, res) => {
    const { limit } = parse(topQuery, req.query);
    res.json(await deps.readLive((live) => topProducts(live, limit)));
  });

  return router;
}
