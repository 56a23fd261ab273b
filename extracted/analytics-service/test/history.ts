import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { v7 as uuidv7 } from 'uuid';
import type { Knex } from '@banyan/db';
import { exchangeFor, type EventEnvelope } from '@banyan/events';
import { encode, names, publishOptions } from '@banyan/messaging';
import { analyticsSubscriptions } from '../../../monolith/src/modules/analytics/events/subscriptions';

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const DAY_MS = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00Z');
/** The history's days: [FIRST_DAY, LAST_DAY]. */
export const FIRST_DAY = '2026-03-01';
export const LAST_DAY = '2026-04-29';

const sequences = new Map<string, number>();
export function envelope(type: string, subject: string, data: Record<string, unknown>, time: string): EventEnvelope {
  const sequence = (sequences.get(subject) ?? 0) + 1;
  sequences.set(subject, sequence);
  return {
    specversion: '1.0',
    id: uuidv7(),
    source: '/banyan/monolith',
    type,
    subject,
    time,
    datacontenttype: 'application/json',
    sequence,
    origin: 'monolith',
    data,
  };
}

/** Deterministic enough to tell sums apart: quantities and prices vary by index. */
export function orderEvents(products: string[], i: number, at: number, how: 'confirmed' | 'cancelled' | 'declined'): EventEnvelope[] {
  const orderId = uuidv7();
  const userId = randomUUID();
  const items = [
    { productId: products[i % products.length], quantity: 1 + (i % 3), priceCents: 500 + (i % 7) * 100 },
    { productId: products[(i * 7 + 3) % products.length], quantity: 1 + (i % 2), priceCents: 1_200 },
  ];
  const totalCents = items.reduce((sum, it) => sum + it.quantity * it.priceCents, 0);
  const time = new Date(at).toISOString();
  const confirmed = { orderId, userId, paymentId: randomUUID(), totalCents, items, confirmedAt: time };
  const cancelled = (reason: 'customer' | 'payment_declined') => ({
    orderId,
    userId,
    reason,
    status: reason === 'customer' ? 'cancelled' : 'payment_declined',
    totalCents,
    items,
    wasConfirmed: reason === 'customer',
  });
  if (how === 'declined') return [envelope('order.cancelled', orderId, cancelled('payment_declined'), time)];
  const events = [envelope('order.confirmed', orderId, confirmed, time)];
  if (how === 'cancelled') events.push(envelope('order.cancelled', orderId, cancelled('customer'), new Date(at + 60_000).toISOString()));
  return events;
}

/**
 * A shop's history of at least `orders` orders over 60 days: products created and renamed,
 * customers registering, orders confirmed, some cancelled after, some declined, and a share of
 * events twice (what a relay's re-sent batch leaves in the history).
 */
export function shopHistory(orders: number): { events: EventEnvelope[]; products: string[] } {
  const events: EventEnvelope[] = [];
  const products = Array.from({ length: 120 }, () => uuidv7());
  for (const [i, productId] of products.entries()) {
    events.push(envelope('product.created', productId, { productId, sku: `SKU-${i}`, name: `Product ${i}`, priceCents: 500, stock: 100 }, new Date(START).toISOString()));
    if (i % 2) events.push(envelope('product.updated', productId, { productId, sku: `SKU-${i}`, name: `Product ${i} (renamed)`, priceCents: 600, stock: 100 }, new Date(START + DAY_MS).toISOString()));
  }
  for (let i = 0; i < 2_000; i++) {
    const userId = uuidv7();
    events.push(envelope('user.registered', userId, { userId, email: `u${i}@example.com`, name: `U ${i}`, role: 'customer' }, new Date(START + (i % 60) * DAY_MS + i).toISOString()));
  }
  for (let i = 0; i < orders; i++) {
    const at = START + (i % 60) * DAY_MS + (i % 86_000) * 1_000;
    events.push(...orderEvents(products, i, at, i % 17 === 0 ? 'declined' : i % 11 === 0 ? 'cancelled' : 'confirmed'));
  }
  for (let i = 0; i < events.length; i += 97) events.push(events[i]);
  return { events, products };
}

/** Publish as the relay does: to the event's domain exchange, routing key its type, confirmed. */
export async function publishEvents(namespace: string, events: EventEnvelope[]): Promise<void> {
  const n = names(namespace);
  const connection = await amqplib.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createConfirmChannel();
    for (const event of events) {
      if (!channel.publish(n.exchange(exchangeFor(event.type)), event.type, encode(event), publishOptions(event))) {
        await new Promise((resolve) => channel.once('drain', resolve));
      }
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/**
 * The monolith module's own handlers applied to the same events, each event once (what its inbox
 * guarantees), in a few large transactions on parallel connections: its tables then hold the
 * figures the module would answer. Events are split by aggregate, as the queues deliver them.
 */
export async function applyToModule(knex: Knex, events: EventEnvelope[]): Promise<void> {
  const seen = new Set<string>();
  const lanes: EventEnvelope[][] = Array.from({ length: 8 }, () => []);
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    lanes[event.subject.charCodeAt(event.subject.length - 1) % lanes.length].push(event);
  }
  await Promise.all(
    lanes.map(async (lane) => {
      for (let i = 0; i < lane.length; i += 2_000) {
        await knex.transaction(async (trx) => {
          for (const event of lane.slice(i, i + 2_000)) {
            const subscription = analyticsSubscriptions.find((s) => s.eventType === event.type);
            await subscription?.handle(event, trx);
          }
        });
      }
    }),
  );
}
