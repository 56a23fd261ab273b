import { AppError } from '@banyan/errors';
import { withTransaction } from '@banyan/db';
import type { ProductsDeps } from './deps';
import type { ReservedItem, StockItem } from './product';
import { reserveStock } from './reserve-stock';

/**
 * The extracted orders service's checkout takes stock here (at the products service while products
 * is extracted, at the monolith's internal door while it is not, ADR 0314). Keyed by order id: a
 * repeated call (the first answer was lost to a timeout) returns the first result and takes
 * nothing more. An order already cancelled (its caller compensated before this call arrived)
 * takes nothing at all.
 */
export function takeReservation(deps: ProductsDeps, orderId: string, items: StockItem[]): Promise<ReservedItem[]> {
  return withTransaction(deps.knex, async (trx) => {
    if (await deps.reservations.claim(trx, orderId, 'reserved', items)) {
      // Out of stock throws here and rolls the claim back with it, so a retry is judged afresh.
      const reserved = await reserveStock(deps, trx, orderId, items);
      await deps.reservations.set(trx, orderId, 'reserved', reserved);
      return reserved;
    }
    const existing = await deps.reservations.lock(trx, orderId);
    if (existing.state === 'cancelled') {
      throw new AppError('PRODUCTS.RESERVATION_CANCELLED', 409, 'This order was cancelled before its stock could be reserved.', { orderId });
    }
    return existing.items as ReservedItem[];
  });
}
