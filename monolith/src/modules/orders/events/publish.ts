import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
import { ordersRepository } from '../data/repository';
import type { Order } from '../domain/order';

type CancelReason = EventData<'order.cancelled'>['reason'];

/**
 * What the orders module publishes; each call takes the transaction of the change it reports,
 * and stamps the order's row with the event's sequence: its version for two-way sync (ADR 0314).
 */
export const orderEvents = (outbox: Outbox) => {
  const stamped = async <T>(trx: Knex.Transaction, orderId: string, added: Promise<EventEnvelope<T>>) => {
    const envelope = await added;
    await ordersRepository.stamp(trx, orderId, envelope.sequence);
    return envelope;
  };
  return {
    created: (trx: Knex.Transaction, o: Order) => {
      // Published once the payment is settled, so subscribers never see an order that may still vanish.
      if (o.status !== 'confirmed' && o.status !== 'payment_declined') throw new Error(`order.created for a ${o.status} order`);
      return stamped(trx, o.id, outbox.add<EventData<'order.created'>>(trx, {
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
      }));
    },
    confirmed: (trx: Knex.Transaction, o: Order, paymentId: string) =>
      stamped(trx, o.id, outbox.add<EventData<'order.confirmed'>>(trx, {
        type: 'order.confirmed',
        subject: o.id,
        data: { orderId: o.id, userId: o.userId, paymentId, totalCents: o.totalCents, items: o.items, confirmedAt: new Date().toISOString() },
      })),
    cancelled: (trx: Knex.Transaction, o: Order, reason: CancelReason) =>
      stamped(trx, o.id, outbox.add<EventData<'order.cancelled'>>(trx, {
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
      })),
  };
};

export type OrderEvents = ReturnType<typeof orderEvents>;
