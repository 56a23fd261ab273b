import type { Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
import type { Payment } from '../domain/payment';

/** What the payments module publishes; each call takes the transaction of the change it reports. */
export const paymentEvents = (outbox: Outbox) => ({
  captured: (trx: Knex.Transaction, p: Payment) =>
    outbox.add<EventData<'payment.captured'>>(trx, {
      type: 'payment.captured',
      subject: p.id,
      data: { paymentId: p.id, orderId: p.orderId, amountCents: p.amountCents },
    }),
  declined: (trx: Knex.Transaction, p: Payment) =>
    outbox.add<EventData<'payment.declined'>>(trx, {
      type: 'payment.declined',
      subject: p.id,
      data: { paymentId: p.id, orderId: p.orderId, amountCents: p.amountCents, reason: p.declineReason ?? 'declined' },
    }),
  refunded: (trx: Knex.Transaction, p: Payment) =>
    outbox.add<EventData<'payment.refunded'>>(trx, {
      type: 'payment.refunded',
      subject: p.id,
      data: { paymentId: p.id, orderId: p.orderId, amountCents: p.amountCents },
    }),
});

export type PaymentEvents = ReturnType<typeof paymentEvents>;
