import type { Knex } from '@banyan/db';
import type { ProductsDeps } from './deps';
import { mergeItems } from './reserve-stock';
import { MAX_STOCK, ProductErrors, type StockItem } from './product';

/** Give an order's stock back (declined payment, cancellation), in the caller's transaction. */
export async function releaseStock(deps: ProductsDeps, trx: Knex.Transaction, orderId: string, items: StockItem[]): Promise<void> {
  const sorted = mergeItems(items).sort((a, b) => (a.productId < b.productId ? -1 : 1));
  for (const { productId, quantity } of sorted) {
    const product = await deps.repo.changeStock(trx, productId, quantity, MAX_STOCK);
    if (!product) {
      if (!(await deps.repo.find(trx, productId))) throw ProductErrors.notFound(productId);
      // Only reachable if an admin raised the stock to the ceiling while the order held units.
      throw new Error(`releasing ${quantity} of ${productId} would exceed the stock ceiling`);
    }
    await deps.events.stockChanged(trx, product, quantity, 'order_released', orderId);
  }
}
