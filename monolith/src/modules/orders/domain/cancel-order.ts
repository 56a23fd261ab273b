import type { Principal } from '@banyan/auth';
import { withTransaction } from '@banyan/db';
import type { OrdersDeps } from './deps';
import { OrderErrors, type Order } from './order';

/**
 * A customer cancels a confirmed order: refund first (remote, idempotent), then cancel and give
 * the stock back in one transaction. If that transaction is lost after the refund, cancelling
 * again finishes the job: the refund answers "already refunded" and the order moves on.
 */
export async function cancelOrder(deps: OrdersDeps, customer: Principal, orderId: string): Promise<Order> {
  const order = await deps.repo.find(deps.knex, orderId);
  if (!order || order.userId !== customer.userId) throw OrderErrors.notFound();
  if (order.status !== 'confirmed') throw OrderErrors.notCancellable(order.status);

  await deps.payments.refund(orderId);

  return withTransaction(deps.knex, async (trx) => {
    const cancelled = await deps.repo.transition(trx, orderId, 'confirmed', 'cancelled');
    // A concurrent cancel won the race; the refund it shares with us is idempotent.
    if (!cancelled) throw OrderErrors.notCancellable('cancelled');
    await deps.products.releaseStock(trx, orderId, cancelled.items);
    await deps.events.cancelled(trx, cancelled, 'customer');
    return cancelled;
  });
}
