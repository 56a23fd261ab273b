import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import type { AnalyticsRepository } from '../data/repository';

/** A new customer counts on the UTC day the users domain registered them (the event's time). */
export function recordSignup(store: AnalyticsRepository, trx: Knex.Transaction, event: EventEnvelope<EventData<'user.registered'>>): Promise<void> {
  return store.recordSignup(trx, { userId: event.data.userId, registeredAt: event.time });
}
