import { withTransaction } from '@banyan/db';
import type { OrdersDeps } from './deps';
import { OrderErrors, type Order } from './order';

/**
 * The second transaction of placing an order, once the payment's answer is known. Each moves
 * the order out of `pending` with a compare-and-set, so an order is settled exactly once.
 */

export function confirmOrder(deps: OrdersDeps, order: Order, paymentId: string): Promise<Order> {
  return withTransaction(deps.knex, async (trx) => {
    const confirmed = await settled(deps.repo.transition(trx, order.id, 'pending', 'confirmed', paymentId), order);
    await deps.events.created(trx, confirmed);
    await deps.events.confirmed(trx, confirmed, paymentId);
    return confirmed;
  });
}

export function declineOrder(deps: OrdersDeps, order: Order, paymentId: string): Promise<Order> {
  return withTransaction(deps.knex, async (trx) => {
    const declined = await settled(deps.repo.transition(trx, order.id, 'pending', 'payment_declined', paymentId), order);
    await deps.products.releaseStock(trx, order.id, declined.items);
    await deps.events.created(trx, declined);
    await deps.events.cancelled(trx, declined, 'payment_declined');
    return declined;
  });
}

/**
 * The processor could not be reached: give the stock back and mark the order `payment_failed`.
 * No order event: as far as subscribers know, this order has not happened. Its payment stays
 * claimed under the order's id, so whatever the processor did is settled by that key, never
 * charged twice.
 */
export function failOrder(deps: OrdersDeps, order: Order): Promise<Order> {
  return withTransaction(deps.knex, async (trx) => {
    const failed = await settled(deps.repo.transition(trx, order.id, 'pending', 'payment_failed'), order);
    await deps.products.releaseStock(trx, order.id, failed.items);
    return failed;
  });
}

async function settled(moved: Promise<Order | undefined>, order: Order): Promise<Order> {
  const result = await moved;
  // Only the request that created the pending order settles it, unless that request outlived
  // ORDERS_RECONCILE_AFTER_MS and the reconciler failed the order meanwhile, making sure its
  // card is not charged: which is what the customer is told.
  if (!result) throw OrderErrors.paymentUnavailable(order.id);
  return result;
}
