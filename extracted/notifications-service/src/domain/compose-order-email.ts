import type { EventData } from '@banyan/events';

type OrderCreated = EventData<'order.created'>;

/**
 * The short number a customer reads. The tail of a uuid v7, not its head: the head is the
 * millisecond clock, shared by every order placed in the same minute.
 */
export const shortOrderId = (orderId: string) => orderId.replace(/-/g, '').slice(-8).toUpperCase();

const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

const SUBJECTS: Record<OrderCreated['status'], (ref: string) => string> = {
  confirmed: (ref) => `Order confirmed: #${ref}`,
  payment_declined: (ref) => `Payment declined for order #${ref}`,
  pending: (ref) => `Order received: #${ref}`,
  cancelled: (ref) => `Order cancelled: #${ref}`,
};

const OPENINGS: Record<OrderCreated['status'], string> = {
  confirmed: 'Thank you for your order. It is confirmed and on its way to being packed.',
  payment_declined: 'Your card was declined, so this order was not placed and you have not been charged.',
  pending: 'We have received your order and are processing it.',
  cancelled: 'This order has been cancelled.',
};

export function composeOrderEmail(order: OrderCreated): { subject: string; body: string } {
  const ref = shortOrderId(order.orderId);
  const lines = order.items.map(
    (item) => `  ${item.quantity} × product ${item.productId} at ${money(item.priceCents)} = ${money(item.quantity * item.priceCents)}`,
  );
  const body = [
    OPENINGS[order.status],
    '',
    `Order #${ref} (${order.orderId})`,
    ...lines,
    '',
    `Total: ${money(order.totalCents)}`,
    '',
    'Banyan Shop',
  ].join('\n');
  return { subject: SUBJECTS[order.status](ref), body };
}
