import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import { replicaRepository as replica } from '../data/repository';
import { continueSequences } from '@banyan/outbox';

/**
 * Keep this side's products in step with the changes another side made (two-way sync during
 * extraction, docs/adr/0301-two-way-sync-during-extraction.md). Only events whose origin is
 * `from` are applied: our own events come back on the same exchange and must not echo. An
 * applied change is written straight to the table, never through the outbox, so it is not
 * published again.
 */
export function productSyncSubscriptions(options: {
  consumer: string;
  from: string;
  /**
   * Whether `from`'s change wins when both sides gave a write the same version (they wrote
   * concurrently during a switch). Exactly one side sets it, so both keep the same write.
   */
  fromWinsTies: boolean;
}): Subscription[] {
  const mine = (event: EventEnvelope) => event.origin === options.from;

  const snapshot = async (event: EventEnvelope<EventData<'product.created'>>, trx: Knex.Transaction) => {
    if (!mine(event)) return;
    const { productId, ...rest } = event.data;
    await replica.upsertIfNewer(trx, { id: productId, ...rest }, event.sequence, options.fromWinsTies);
    await continueSequence(trx, event);
  };

  return [
    { consumer: options.consumer, eventType: 'product.created', handle: snapshot },
    { consumer: options.consumer, eventType: 'product.updated', handle: snapshot },
    {
      consumer: options.consumer,
      eventType: 'product.stock_changed',
      async handle(event: EventEnvelope<EventData<'product.stock_changed'>>, trx) {
        if (!mine(event)) return;
        const { productId, sku, name, description, priceCents, stock } = event.data;
        // A whole snapshot: the row as it was at this sequence, stock and the rest. Applying only
        // the stock would stamp the row with a version past a name change still on its way on
        // product.updated's queue, which would then be refused as older and lost.
        if (sku !== undefined && name !== undefined && description !== undefined && priceCents !== undefined) {
          await replica.upsertIfNewer(trx, { id: productId, sku, name, description, priceCents, stock }, event.sequence, options.fromWinsTies);
          await continueSequence(trx, event);
          return;
        }
        const applied = await replica.setStockIfNewer(trx, productId, stock, event.sequence, options.fromWinsTies);
        // product.created travels on another queue and may arrive later: throwing rolls back the
        // inbox row too, so the consumer's retry applies this once the product exists.
        if (applied === undefined) throw new Error(`product ${event.data.productId} not replicated yet`);
        await continueSequence(trx, event);
      },
    },
  ];
}

/**
 * Raise this side's counter for the aggregate to the event's sequence, so its next own write
 * numbers after the other side's change instead of colliding with it. Always after the row's
 * write: every writer here (a request, the backfill, this consumer) locks the product's row
 * before its counter, and one lock order is what keeps two of them from deadlocking.
 */
async function continueSequence(trx: Knex.Transaction, event: EventEnvelope) {
  await continueSequences(trx, [{ aggregateType: 'products', aggregateId: event.subject, sequence: event.sequence }]);
}
