import { v7 as uuidv7 } from 'uuid';
import type { Principal } from '@banyan/auth';
import { withTransaction } from '@banyan/db';
import { withSpan } from '@banyan/telemetry';
import type { OrdersDeps } from './deps';
import { OrderErrors, type Order, type OrderLine } from './order';
import { confirmOrder, declineOrder, failOrder } from './settle-order';

export interface PlaceOrderInput {
  items: OrderLine[];
  card: { number: string };
}

/**
 * Reserve and record (one transaction), charge (no transaction: the payments door is a remote
 * call in waiting, and a transaction must not stay open across the network), then settle (a
 * second transaction). The order row is committed before the card is charged, so a charged
 * card always has an order to belong to.
 */
export function placeOrder(deps: OrdersDeps, customer: Principal, input: PlaceOrderInput, orderId: string = uuidv7()): Promise<Order> {
  // The business span of checkout (the seed design's createOrder): transport spans come from
  // the instrumentations; this one says which order, whose, and how big. Errors are recorded on it.
  return withSpan(
    'order.place',
    { 'order.id': orderId, 'user.id': customer.userId, 'items.count': input.items.length },
    async (span) => {
      const order = await place(deps, customer, input, orderId);
      span.setAttributes({ 'order.status': order.status, 'order.total_cents': order.totalCents });
      return order;
    },
  );
}

async function place(deps: OrdersDeps, customer: Principal, input: PlaceOrderInput, orderId: string): Promise<Order> {
  const pending = await withTransaction(deps.knex, async (trx) => {
    const items = await deps.products.reserveStock(trx, orderId, input.items);
    const totalCents = items.reduce((sum, i) => sum + i.quantity * i.priceCents, 0);
    return deps.repo.insert(trx, { id: orderId, userId: customer.userId, customerEmail: customer.email, status: 'pending', totalCents, items });
  });

  let payment;
  try {
    payment = await deps.payments.charge({ orderId, userId: customer.userId, amountCents: pending.totalCents, card: input.card });
  } catch (err) {
    await failOrder(deps, pending);
    throw OrderErrors.paymentUnavailable(orderId, err);
  }

  if (payment.status === 'captured') return confirmOrder(deps, pending, payment.paymentId);
  await declineOrder(deps, pending, payment.paymentId);
  throw OrderErrors.paymentDeclined(orderId, payment.reason ?? 'declined');
}
