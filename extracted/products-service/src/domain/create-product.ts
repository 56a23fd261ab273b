import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '@banyan/db';
import type { ProductsDeps } from './deps';
import { ProductErrors, type NewProduct, type Product } from './product';

export async function createProduct(deps: ProductsDeps, input: NewProduct): Promise<Product> {
  try {
    return await withTransaction(deps.knex, async (trx) => {
      const product = await deps.repo.insert(trx, uuidv7(), input);
      await deps.events.created(trx, product);
      return product;
    });
  } catch (err) {
    if (deps.repo.isSkuConflict(err)) throw ProductErrors.skuTaken(input.sku);
    throw err;
  }
}
