import type { EventEnvelope, EventData } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import type { Knex } from '@banyan/db';
import { paymentsRepository as repo, type PaymentReplica } from '../data/repository';

type PaymentEventType = 'payment.captured' | 'payment.declined' | 'payment.refunded';

const STATUS = { 'payment.captured': 'captured', 'payment.declined': 'declined', 'payment.refunded': 'refunded' } as const;

/**
 * Apply the other side's payment events to this side's table (two-way sync). Only events whose
 * origin is `from` are applied: our own come back on the same exchange and must not echo. An
 * older or repeated event loses against the row's version. Applying publishes nothing: the side
 * that made the change already told everyone.
 */
export function paymentSyncSubscriptions(options: { consumer: string; from: string }): Subscription[] {
  const apply = (type: PaymentEventType) => async (event: EventEnvelope<EventData<PaymentEventType>>, trx: Knex.Transaction) => {
    if (event.origin !== options.from) return;
    const d = event.data;
    const replica: PaymentReplica = {
      id: d.paymentId,
      orderId: d.orderId,
      status: STATUS[type],
      amountCents: d.amountCents,
      version: event.sequence,
      userId: d.userId,
      cardLast4: d.cardLast4,
      processorReference: d.processorReference,
      declineReason: 'reason' in d ? d.reason : undefined,
    };
    await repo.applyReplica(trx, replica);
    await repo.raiseSequence(trx, d.paymentId, event.sequence);
  };
  return (Object.keys(STATUS) as PaymentEventType[]).map((eventType) => ({ consumer: options.consumer, eventType, handle: apply(eventType) }));
}
