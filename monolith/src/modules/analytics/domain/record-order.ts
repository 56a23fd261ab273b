import type { Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { AnalyticsRepository, OrderLine } from '../data/repository';

type Item = EventData<'order.confirmed'>['items'][number];

/** An order may list a product twice; the read model keeps one line per product. */
function toLines(items: Item[]): OrderLine[] {
  const byProduct = new Map<string, OrderLine>();
  for (const item of items) {
    const line = byProduct.get(item.productId) ?? { productId: item.productId, quantity: 0, revenueCents: 0 };
    line.quantity += item.quantity;
    line.revenueCents += item.quantity * item.priceCents;
    byProduct.set(item.productId, line);
  }
  return [...byProduct.values()];
}

export async function recordOrderConfirmed(store: AnalyticsRepository, trx: Knex.Transaction, order: EventData<'order.confirmed'>): Promise<void> {
  await store.recordConfirmed(trx, order);
  await store.recordLines(trx, order.orderId, toLines(order.items));
}

/**
 * Marks the order as not counting, whatever its reason: a customer's cancellation takes back a
 * sale; a declined payment never made one. If order.confirmed arrives later (another queue), it
 * fills in the day but the order still does not count.
 */
export async function recordOrderCancelled(store: AnalyticsRepository, trx: Knex.Transaction, order: EventData<'order.cancelled'>): Promise<void> {
  await store.recordCancelled(trx, order);
  await store.recordLines(trx, order.orderId, toLines(order.items));
}
