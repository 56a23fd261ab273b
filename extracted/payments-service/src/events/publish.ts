import type { Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
import type { Payment } from '../domain/payment';

// Everything the other side of a two-way sync needs to rebuild the row (see @banyan/events).
const replica = (p: Payment) => ({
  userId: p.userId,
  cardLast4: p.cardLast4,
  ...(p.processorReference ? { processorReference: p.processorReference } : {}),
});

/**
 * What the payments module publishes; each call takes the transaction of the change it reports
 * and returns the envelope, whose sequence becomes the row's version.
 */
export const paymentEvents = (outbox: Outbox) => ({
  captured: (trx: Knex.Transaction, p: Payment) =>
    outbox.add<EventData<'payment.captured'>>(trx, {
      type: 'payment.captured',
      subject: p.id,
      data: { paymentId: p.id, orderId: p.orderId, amountCents: p.amountCents, ...replica(p) },
    }),
  declined: (trx: Knex.Transaction, p: Payment) =>
    outbox.add<EventData<'payment.declined'>>(trx, {
      type: 'payment.declined',
      subject: p.id,
      data: { paymentId: p.id, orderId: p.orderId, amountCents: p.amountCents, reason: p.declineReason ?? 'declined', ...replica(p) },
    }),
  refunded: (trx: Knex.Transaction, p: Payment) =>
    outbox.add<EventData<'payment.refunded'>>(trx, {
      type: 'payment.refunded',
      subject: p.id,
      data: { paymentId: p.id, orderId: p.orderId, amountCents: p.amountCents, ...replica(p) },
    }),
});

export type PaymentEvents = ReturnType<typeof paymentEvents>;
