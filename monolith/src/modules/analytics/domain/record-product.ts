import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import type { AnalyticsRepository } from '../data/repository';

/** Keeps the newest name by the product's own event sequence, not by arrival. */
export async function recordProduct(store: AnalyticsRepository, trx: Knex.Transaction, event: EventEnvelope<EventData<'product.created'>>): Promise<void> {
  await store.recordProductName(trx, { productId: event.data.productId, name: event.data.name, sequence: event.sequence });
}
