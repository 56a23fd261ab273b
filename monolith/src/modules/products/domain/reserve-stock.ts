import type { Knex } from '@banyan/db';
import type { ProductsDeps } from './deps';
import { MAX_STOCK, ProductErrors, type ReservedItem, type StockItem } from './product';

/** Same product twice in one call would take two row locks in one order: merge first. */
export function mergeItems(items: StockItem[]): StockItem[] {
  const byProduct = new Map<string, number>();
  for (const { productId, quantity } of items) byProduct.set(productId, (byProduct.get(productId) ?? 0) + quantity);
  return [...byProduct].map(([productId, quantity]) => ({ productId, quantity }));
}

/**
 * Take stock for an order inside the caller's transaction. All-or-nothing: the first line that
 * cannot be served throws, and the caller's rollback undoes the lines already taken. Rows are
 * locked in id order so two orders for the same products cannot deadlock.
 */
export async function reserveStock(deps: ProductsDeps, trx: Knex.Transaction, orderId: string, items: StockItem[]): Promise<ReservedItem[]> {
  const merged = mergeItems(items);
  const sorted = [...merged].sort((a, b) => (a.productId < b.productId ? -1 : 1));
  const reserved = new Map<string, number>();
  for (const { productId, quantity } of sorted) {
    const product = await deps.repo.changeStock(trx, productId, -quantity, MAX_STOCK);
    if (!product) {
      const current = await deps.repo.find(trx, productId);
      if (!current) throw ProductErrors.notFound(productId);
      throw ProductErrors.insufficientStock(productId, current.stock);
    }
    await deps.events.stockChanged(trx, product, -quantity, 'order_reserved', orderId);
    reserved.set(productId, product.priceCents);
  }
  return merged.map((item) => ({ ...item, priceCents: reserved.get(item.productId)! }));
}
