import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import { analyticsRepository } from '../data/repository';

/** Keeps the newest name by the product's own event sequence, not by arrival. */
export async function recordProduct(trx: Knex.Transaction, event: EventEnvelope<EventData<'product.created'>>): Promise<void> {
  await analyticsRepository.recordProductName(trx, { productId: event.data.productId, name: event.data.name, sequence: event.sequence });
}
