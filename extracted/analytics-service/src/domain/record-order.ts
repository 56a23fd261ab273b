import type { EventData } from '@banyan/events';
import type { OrderLine } from '../data/repository';

type Item = EventData<'order.confirmed'>['items'][number];

/** An order may list a product twice; the read model keeps one line per product. */
export function toLines(items: Item[]): OrderLine[] {
  const byProduct = new Map<string, OrderLine>();
  for (const item of items) {
    const line = byProduct.get(item.productId) ?? { productId: item.productId, quantity: 0, revenueCents: 0 };
    line.quantity += item.quantity;
    line.revenueCents += item.quantity * item.priceCents;
    byProduct.set(item.productId, line);
  }
  return [...byProduct.values()];
}
