import type { Knex } from '@banyan/db';
import type { AnalyticsRepository, ProductSales } from '../data/repository';

/**
 * Best sellers by quantity over every counted order. `name` is null while the product's own
 * events have not reached us yet (they travel on another queue).
 */
export async function topProducts(deps: { knex: Knex; store: AnalyticsRepository }, limit: number): Promise<{ items: ProductSales[] }> {
  return { items: await deps.store.topProducts(deps.knex, limit) };
}
