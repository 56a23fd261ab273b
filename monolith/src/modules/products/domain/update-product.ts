import { withTransaction } from '@banyan/db';
import type { ProductsDeps } from './deps';
import { ProductErrors, type Product, type ProductChanges } from './product';

export async function updateProduct(deps: ProductsDeps, id: string, changes: ProductChanges): Promise<Product> {
  try {
    return await withTransaction(deps.knex, async (trx) => {
      const product = await deps.repo.update(trx, id, changes);
      if (!product) throw ProductErrors.notFound(id);
      await deps.events.updated(trx, product);
      return product;
    });
  } catch (err) {
    if (deps.repo.isSkuConflict(err)) throw ProductErrors.skuTaken(changes.sku!);
    throw err;
  }
}
