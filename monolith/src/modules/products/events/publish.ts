import type { Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
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

/** What the products module publishes; every call takes the transaction of the change it reports. */
export const productEvents = (outbox: Outbox) => ({
  created: (trx: Knex.Transaction, p: Product) =>
    outbox.add(trx, { type: 'product.created', subject: p.id, data: snapshot(p) }),
  updated: (trx: Knex.Transaction, p: Product) =>
    outbox.add(trx, { type: 'product.updated', subject: p.id, data: snapshot(p) }),
  stockChanged: (trx: Knex.Transaction, p: Product, delta: number, reason: StockReason, orderId?: string) =>
    outbox.add<EventData<'product.stock_changed'>>(trx, {
      type: 'product.stock_changed',
      subject: p.id,
      data: { productId: p.id, delta, stock: p.stock, reason, ...(orderId ? { orderId } : {}) },
    }),
});

export type ProductEvents = ReturnType<typeof productEvents>;
