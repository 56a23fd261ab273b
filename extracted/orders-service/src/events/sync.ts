import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import { continueSequences } from '@banyan/outbox';
import { ordersRepository as repo } from '../data/repository';

type OrderEventType = 'order.created' | 'order.confirmed' | 'order.cancelled';

/**
 * Apply the other side's order events to this side's tables (two-way sync while orders is being
 * extracted, ADR 0314 after ADR 0301). Only events whose origin is `from` are applied: our own come
 * back on the same exchange and must not echo. An older or repeated event loses against the row's
 * version. Applying publishes nothing. Orders that failed mid-checkout publish no event and stay
 * on the side that took them (they never happened for anyone else).
 */
export function orderSyncSubscriptions(options: { consumer: string; from: string }): Subscription[] {
  const handlers: { [K in OrderEventType]: (d: EventData<K>, version: number, trx: Knex.Transaction) => Promise<unknown> } = {
    'order.created': (d, version, trx) =>
      repo.applyCreated(trx, { id: d.orderId, userId: d.userId, customerEmail: d.customerEmail, status: d.status, totalCents: d.totalCents, items: d.items, createdAt: d.createdAt }, version),
    'order.confirmed': (d, version, trx) => repo.applyStatus(trx, d.orderId, 'confirmed', version, d.paymentId),
    'order.cancelled': (d, version, trx) => repo.applyStatus(trx, d.orderId, d.status, version),
  };
  const apply = (type: OrderEventType) => async (event: EventEnvelope<EventData<OrderEventType>>, trx: Knex.Transaction) => {
    if (event.origin !== options.from) return;
    await (handlers[type] as (d: unknown, version: number, trx: Knex.Transaction) => Promise<unknown>)(event.data, event.sequence, trx);
    // This side's next own event on the order numbers after the one applied.
    await continueSequences(trx, [{ aggregateType: 'orders', aggregateId: event.subject, sequence: event.sequence }]);
  };
  return (Object.keys(handlers) as OrderEventType[]).map((eventType) => ({ consumer: options.consumer, eventType, handle: apply(eventType) }));
}
