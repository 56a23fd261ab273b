import type { Knex } from '@banyan/db';
import type { AnalyticsRepository, DaySales } from '../data/repository';

export interface SalesReport {
  from: string;
  to: string;
  totalCents: number;
  orders: number;
  /** Customers who registered in the range. */
  signups: number;
  days: DaySales[];
}

/** [from, to] inclusive, both YYYY-MM-DD, days counted in UTC. */
export async function salesReport(deps: { knex: Knex; store: AnalyticsRepository }, from: string, to: string): Promise<SalesReport> {
  const days = await deps.store.salesByDay(deps.knex, from, to);
  return {
    from,
    to,
    totalCents: days.reduce((sum, d) => sum + d.revenueCents, 0),
    orders: days.reduce((sum, d) => sum + d.orders, 0),
    signups: days.reduce((sum, d) => sum + d.signups, 0),
    days,
  };
}
