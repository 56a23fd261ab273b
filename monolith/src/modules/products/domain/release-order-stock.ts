import { withTransaction } from '@banyan/db';
import type { ProductsDeps } from './deps';
import type { StockItem } from './product';
import { releaseStock } from './release-stock';

/**
 * Give back the stock of a recorded order (declined, failed, cancelled), once per order. The
 * order may have reserved here or on the other side before a switch (whose change this side has
 * applied): then there is no reservation row and the caller's list of items is what it holds.
 */
export function releaseOrderStock(deps: ProductsDeps, orderId: string, items: StockItem[]): Promise<void> {
  return withTransaction(deps.knex, async (trx) => {
    if (await deps.reservations.claim(trx, orderId, 'released', items)) {
      await releaseStock(deps, trx, orderId, items);
      return;
    }
    const existing = await deps.reservations.lock(trx, orderId);
    if (existing.state !== 'reserved') return;
    await releaseStock(deps, trx, orderId, existing.items);
    await deps.reservations.set(trx, orderId, 'released');
  });
}
