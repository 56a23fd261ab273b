import { withTransaction } from '@banyan/db';
import { Errors } from '@banyan/errors';
import type { ProductsDeps } from './deps';
import { MAX_STOCK, ProductErrors, type Product } from './product';

/** An admin's stock correction (a delivery, a stock-take). */
export async function adjustStock(deps: ProductsDeps, id: string, delta: number): Promise<Product> {
  return withTransaction(deps.knex, async (trx) => {
    const product = await deps.repo.changeStock(trx, id, delta, MAX_STOCK);
    if (!product) {
      const current = await deps.repo.find(trx, id);
      if (!current) throw ProductErrors.notFound(id);
      if (current.stock + delta < 0) throw ProductErrors.insufficientStock(id, current.stock);
      throw Errors.validation([{ path: 'delta', message: `Stock cannot exceed ${MAX_STOCK}.` }]);
    }
    await deps.events.stockChanged(trx, product, delta, 'adjustment');
    return product;
  });
}
