import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { DOMAINS } from '@banyan/events';
import { names } from '@banyan/messaging';
import { createOutbox, outboxReport } from '@banyan/outbox';
import type { TestDatabase } from '@banyan/testing';
import type { Relay } from '../src';
import { outboxDatabase, RABBITMQ_URL, sleep, startRelay, testNamespace } from './support';

const outbox = createOutbox({ source: '/banyan/test', origin: 'test' });
const product = (productId: string) => ({ productId, sku: 'SKU', name: 'n', description: 'd', priceCents: 100, stock: 1 });

/**
 * Fault 4. Injected: the only binding for `product.created` deleted, so RabbitMQ returns the
 * mandatory message as unroutable. Held: the row is not marked, its aggregate's next event waits
 * behind it, other aggregates flow; once the binding is back both arrive, in order. And a row
 * that keeps failing is parked after N attempts with its last error while the others flow.
 */
describe('fault 4: unroutable event', () => {
  let db: TestDatabase;
  let relay: Relay | undefined;
  let connection: amqplib.ChannelModel;
  let channel: amqplib.Channel;
  const namespace = testNamespace('fault4');
  const n = names(namespace);
  const queue = `${namespace}products-watch`;
  const got: Array<{ id: string; type: string; subject: string; sequence: number }> = [];

  beforeAll(async () => {
    db = await outboxDatabase('relay_fault4');
    connection = await amqplib.connect(RABBITMQ_URL);
    channel = await connection.createChannel();
    await channel.assertExchange(n.exchange('products'), 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(queue, n.exchange('products'), 'product.updated');
    await channel.consume(queue, (m) => {
      if (!m) return;
      got.push(JSON.parse(m.content.toString()));
      channel.ack(m);
    });
  });

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });

  afterAll(async () => {
    await channel.deleteQueue(queue);
    for (const d of DOMAINS) await channel.deleteExchange(n.exchange(d));
    await connection.close();
    await db.drop();
  });

  const write = (type: string, subject: string) => db.knex.transaction((trx) => outbox.add(trx, { type, subject, data: product(subject) }));

  it('When an event is unroutable, then it stays unpublished and is published after its binding returns, in order', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const created = await write('product.created', a); // no binding: returned
    const updated = await write('product.updated', a); // routable, but must wait behind a's first event
    const other = await write('product.updated', b); // another aggregate: flows
    relay = await startRelay(db, namespace, { parkAfterAttempts: 1_000 });

    for (let i = 0; i < 100 && !got.some((e) => e.id === other.id); i++) await sleep(50);
    await sleep(500);
    const row = await db.knex('outbox.events').where({ id: created.id }).first();
    expect(row.published_at).toBeNull();
    expect(row.attempts).toBeGreaterThanOrEqual(1);
    expect(row.last_error).toMatch(/NO_ROUTE/);
    // a's second event went out in the same pipelined batch as the returned one (it cannot be
    // recalled), but it was not marked: it is held back behind its aggregate's failed event.
    expect(got.map((e) => e.id).sort()).toEqual([other.id, updated.id].sort());
    const held = await db.knex('outbox.events').where({ id: updated.id }).first();
    expect(held.published_at).toBeNull();
    const before = got.length;
    await sleep(600); // several retry rounds of the returned row: the held one is not re-sent meanwhile
    expect(got.length).toBe(before);

    await channel.bindQueue(queue, n.exchange('products'), 'product.created');
    for (let i = 0; i < 100 && got.length < before + 2; i++) await sleep(50);
    // Once the route is back: the failed event, then its successor again, in sequence order.
    expect(got.slice(before).map((e) => e.id)).toEqual([created.id, updated.id]);
    await sleep(200);
    const marked = await db.knex('outbox.events').whereIn('id', [created.id, updated.id]).whereNotNull('published_at');
    expect(marked).toHaveLength(2);
    await channel.unbindQueue(queue, n.exchange('products'), 'product.created');
  });

  it('When an event fails N times, then it is parked with its last error, shown by `banyan outbox`, while other aggregates flow', async () => {
    got.length = 0;
    const poisoned = await write('product.created', randomUUID());
    relay = await startRelay(db, namespace, { parkAfterAttempts: 3, retryDelayMs: 50, maxRetryDelayMs: 100 });
    const flowing = await write('product.updated', randomUUID());

    for (let i = 0; i < 100; i++) {
      const row = await db.knex('outbox.events').where({ id: poisoned.id }).first();
      if (row.parked_at) break;
      await sleep(50);
    }
    const parked = await db.knex('outbox.events').where({ id: poisoned.id }).first();
    expect(parked.parked_at).not.toBeNull();
    expect(parked.attempts).toBe(3);
    expect(parked.last_error).toMatch(/NO_ROUTE/);
    expect(got.map((e) => e.id)).toContain(flowing.id);

    const report = await outboxReport(db.knex);
    expect(report.parked).toEqual([expect.objectContaining({ id: poisoned.id, type: 'product.created', attempts: 3 })]);
    expect(report.parked[0].lastError).toMatch(/NO_ROUTE/);
  });
});
