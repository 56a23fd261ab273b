import type { Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
import { replicaRepository } from '../data/repository';
import type { Product } from '../domain/product';

type StockReason = EventData<'product.stock_changed'>['reason'];

const snapshot = (p: Product): EventData<'product.created'> => ({
  productId: p.id,
  sku: p.sku,
  name: p.name,
  description: p.description,
  priceCents: p.priceCents,
  stock: p.stock,
});

/**
 * What the products module publishes; every call takes the transaction of the change it reports.
 * The event's sequence becomes the row's version, so the other side of a two-way sync can tell
 * which of two changes is newer (docs/adr/0301-two-way-sync-during-extraction.md).
 */
export const productEvents = (outbox: Outbox) => {
  const add = async <T>(trx: Knex.Transaction, type: string, p: Product, data: T) => {
    const event = await outbox.add<T>(trx, { type, subject: p.id, data });
    await replicaRepository.setVersion(trx, p.id, event.sequence);
    return event;
  };
  return {
    created: (trx: Knex.Transaction, p: Product) => add(trx, 'product.created', p, snapshot(p)),
    updated: (trx: Knex.Transaction, p: Product) => add(trx, 'product.updated', p, snapshot(p)),
    stockChanged: (trx: Knex.Transaction, p: Product, delta: number, reason: StockReason, orderId?: string) =>
      add<EventData<'product.stock_changed'>>(trx, 'product.stock_changed', p, {
        ...snapshot(p),
        delta,
        reason,
        ...(orderId ? { orderId } : {}),
      }),
  };
};

export type ProductEvents = ReturnType<typeof productEvents>;
