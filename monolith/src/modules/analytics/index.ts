import type { Module, ModuleContext } from '../../kernel';
import { analyticsSchema } from './data/migrations';
import { analyticsRepository } from './data/repository';
import { analyticsSubscriptions } from './events/subscriptions';
import { analyticsRouter } from './http/routes';

export type { SalesReport } from './domain/sales-report';
export type { ProductSales, DaySales } from './data/repository';

/** Read-only to the rest of the monolith: it learns everything from events and offers no API. */
export type AnalyticsApi = Record<string, never>;

export function createAnalyticsModule(ctx: ModuleContext): Module<AnalyticsApi> {
  return {
    name: 'analytics',
    schema: analyticsSchema,
    router: analyticsRouter({ knex: ctx.knex, store: analyticsRepository, verifier: ctx.verifier }),
    api: {},
    subscriptions: analyticsSubscriptions,
  };
}
