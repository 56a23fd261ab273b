import type { EventData, EventEnvelope } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import { analyticsRepository as store } from '../data/repository';
import { recordOrderCancelled, recordOrderConfirmed } from '../domain/record-order';
import { recordProduct } from '../domain/record-product';
import { recordSignup } from '../domain/record-signup';

const CONSUMER = 'analytics';

/**
 * Each runs inside the inbox's transaction, so each event changes the read models once however
 * often it is delivered; the read models themselves make the arrival order irrelevant.
 */
export const analyticsSubscriptions: Subscription[] = [
  {
    consumer: CONSUMER,
    eventType: 'order.confirmed',
    handle: (event, trx) => recordOrderConfirmed(store, trx, event.data as EventData<'order.confirmed'>),
  },
  {
    consumer: CONSUMER,
    eventType: 'order.cancelled',
    handle: (event, trx) => recordOrderCancelled(store, trx, event.data as EventData<'order.cancelled'>),
  },
  { consumer: CONSUMER, eventType: 'product.created', handle: (event, trx) => recordProduct(store, trx, event) },
  { consumer: CONSUMER, eventType: 'product.updated', handle: (event, trx) => recordProduct(store, trx, event) },
  { consumer: CONSUMER, eventType: 'user.registered', handle: (event, trx) => recordSignup(store, trx, event as EventEnvelope<EventData<'user.registered'>>) },
];
