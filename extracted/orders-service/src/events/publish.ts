import type { Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
import type { Order } from '../domain/order';

type CancelReason = EventData<'order.cancelled'>['reason'];

/** What the orders module publishes; each call takes the transaction of the change it reports. */
export const orderEvents = (outbox: Outbox) => ({
  created: (trx: Knex.Transaction, o: Order) => {
    // Published once the payment is settled, so subscribers never see an order that may still vanish.
    if (o.status !== 'confirmed' && o.status !== 'payment_declined') throw new Error(`order.created for a ${o.status} order`);
    return outbox.add<EventData<'order.created'>>(trx, {
      type: 'order.created',
      subject: o.id,
      data: {
        orderId: o.id,
        userId: o.userId,
        customerEmail: o.customerEmail,
        status: o.status,
        totalCents: o.totalCents,
        items: o.items,
        createdAt: o.createdAt,
      },
    });
  },
  confirmed: (trx: Knex.Transaction, o: Order, paymentId: string) =>
    outbox.add<EventData<'order.confirmed'>>(trx, {
      type: 'order.confirmed',
      subject: o.id,
      data: { orderId: o.id, userId: o.userId, paymentId, totalCents: o.totalCents, items: o.items, confirmedAt: new Date().toISOString() },
    }),
  cancelled: (trx: Knex.Transaction, o: Order, reason: CancelReason) =>
    outbox.add<EventData<'order.cancelled'>>(trx, {
      type: 'order.cancelled',
      subject: o.id,
      data: {
        orderId: o.id,
        userId: o.userId,
        reason,
        status: reason === 'customer' ? 'cancelled' : 'payment_declined',
        totalCents: o.totalCents,
        items: o.items,
        wasConfirmed: reason === 'customer',
        cancelledAt: new Date().toISOString(),
      },
    }),
});

export type OrderEvents = ReturnType<typeof orderEvents>;
