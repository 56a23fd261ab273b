import type { Knex } from '@banyan/db';
import { analyticsRepository, type ProductSales } from '../data/repository';

/**
 * Best sellers by quantity over every counted order. `name` is null while the product's own
 * events have not reached us yet (they travel on another queue).
 */
export async function topProducts(knex: Knex, limit: number): Promise<{ items: ProductSales[] }> {
  return { items: await analyticsRepository.topProducts(knex, limit) };
}
