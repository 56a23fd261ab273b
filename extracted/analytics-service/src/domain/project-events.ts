import type { EventData, EventEnvelope } from '@banyan/events';
import type { ProjectionDelta } from '../data/repository';
import { toLines } from './record-order';

/** The event types the read models are built from; the history holds every other type too. */
export const PROJECTED_TYPES = new Set(['order.confirmed', 'order.cancelled', 'product.created', 'product.updated', 'user.registered']);

/**
 * Fold a batch of events (each applied for the first time) into one change per row, with the
 * module's rules (monolith/src/modules/analytics/domain/record-*.ts): a sale counts once confirmed
 * and not cancelled, whichever of the two events comes first; the lines come from either; a
 * product keeps the name of its newest event by sequence; a customer counts on the day of the
 * registration event.
 */
export function projectEvents(events: EventEnvelope[]): ProjectionDelta {
  const confirmed = new Map<string, ProjectionDelta['confirmed'][number]>();
  const cancelled = new Map<string, ProjectionDelta['cancelled'][number]>();
  const lines = new Map<string, ProjectionDelta['lines'][number]>();
  const products = new Map<string, ProjectionDelta['products'][number]>();
  const signups = new Map<string, ProjectionDelta['signups'][number]>();
  const addLines = (order: EventData<'order.confirmed'> | EventData<'order.cancelled'>) => {
    for (const line of toLines(order.items)) {
      const key = `${order.orderId}|${line.productId}`;
      if (!lines.has(key)) lines.set(key, { orderId: order.orderId, ...line });
    }
  };
  for (const event of events) {
    switch (event.type) {
      case 'order.confirmed': {
        const order = event.data as EventData<'order.confirmed'>;
        confirmed.set(order.orderId, { orderId: order.orderId, totalCents: order.totalCents, confirmedAt: order.confirmedAt });
        addLines(order);
        break;
      }
      case 'order.cancelled': {
        const order = event.data as EventData<'order.cancelled'>;
        cancelled.set(order.orderId, { orderId: order.orderId, totalCents: order.totalCents });
        addLines(order);
        break;
      }
      case 'product.created':
      case 'product.updated': {
        const product = event.data as EventData<'product.created'>;
        const newest = products.get(product.productId);
        if (!newest || newest.sequence < event.sequence) products.set(product.productId, { productId: product.productId, name: product.name, sequence: event.sequence });
        break;
      }
      case 'user.registered': {
        const user = event.data as EventData<'user.registered'>;
        if (!signups.has(user.userId)) signups.set(user.userId, { userId: user.userId, registeredAt: event.time });
        break;
      }
    }
  }
  return {
    confirmed: [...confirmed.values()],
    cancelled: [...cancelled.values()],
    lines: [...lines.values()],
    products: [...products.values()],
    signups: [...signups.values()],
  };
}
