import type { Principal } from '@banyan/auth';
import { withTransaction } from '@banyan/db';
import type { OrdersDeps } from './deps';
import { OrderErrors, type Order } from './order';

/**
 * A customer cancels a confirmed order: refund first (remote, idempotent), then cancel in one
 * transaction that also records the stock owed back, then give it back at products. If that
 * transaction is lost after the refund, cancelling again finishes the job (the refund answers
 * "already refunded"); if products does not take the stock now, the saga sweep gives it later.
 */
export async function cancelOrder(deps: OrdersDeps, customer: Principal, orderId: string): Promise<Order> {
  const order = await deps.repo.find(deps.knex, orderId);
  if (!order || order.userId !== customer.userId) throw OrderErrors.notFound();
  if (order.status !== 'confirmed') throw OrderErrors.notCancellable(order.status);

  await deps.payments.refund(orderId);

  const cancelled = await withTransaction(deps.knex, async (trx) => {
    const moved = await deps.repo.transition(trx, orderId, 'confirmed', 'cancelled');
    // A concurrent cancel won the race; the refund it shares with us is idempotent.
    if (!moved) throw OrderErrors.notCancellable('cancelled');
    await deps.releases.owe(trx, orderId, moved.items);
    await deps.events.cancelled(trx, moved, 'customer');
    return moved;
  });
  try {
    await deps.products.release(orderId, cancelled.items.map(({ productId, quantity }) => ({ productId, quantity })));
    await deps.releases.settled(deps.knex, orderId);
  } catch {
    // Owed in stock_releases; the sweep gives it back once products answers.
  }
  return cancelled;
}
