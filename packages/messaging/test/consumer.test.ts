import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { migrate, type Knex } from '@banyan/db';
import { inboxSchema, type Subscription } from '@banyan/inbox';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, type TestDatabase } from '@banyan/testing';
import { HEADERS, names, startConsumers, type Consumers } from '../src';
import { dropTopology, envelope, publishEvents, RABBITMQ_URL, testNamespace } from './support';

const logger = createLogger('messaging-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const stockChanged = (productId: string, stock: number) => ({ productId, delta: 1, stock, reason: 'adjustment' as const });

describe('consumer runtime (real RabbitMQ, real PostgreSQL)', () => {
  let db: TestDatabase;
  let namespace: string;
  let consumers: Consumers | undefined;
  let failuresLeft = 0;

  const subscription: Subscription = {
    consumer: 'effects',
    eventType: 'product.stock_changed',
    async handle(event, trx) {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('downstream unavailable');
      }
      await trx('effects').insert({ event_id: event.id, subject: event.subject, sequence: event.sequence });
    },
  };

  const effects = (knex: Knex) => knex('effects').orderBy('id');

  beforeAll(async () => {
    db = await createTestDatabase('messaging_consumer');
    await migrate(db.knex, [inboxSchema]);
    await db.knex.raw('CREATE TABLE effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, subject text NOT NULL, sequence int NOT NULL)');
  });

  beforeEach(async () => {
    namespace = testNamespace('consumer');
    failuresLeft = 0;
    await db.knex('effects').truncate();
    await db.knex('inbox.processed').truncate();
  });

  afterEach(async () => {
    await consumers?.close();
    if (consumers) await dropTopology(consumers.topology);
    consumers = undefined;
  });

  afterAll(async () => db.drop());

  const start = () =>
    startConsumers({
      url: RABBITMQ_URL,
      knex: db.knex,
      subscriptions: [subscription],
      logger,
      prefetch: 10,
      namespace,
      retry: { delaysMs: [100, 200, 400], maxAttempts: 4 },
    });

  it('names exchanges and queues exactly as the contract does when no namespace is given', () => {
    const n = names();
    expect(n.exchangeOf('order.created')).toBe('orders');
    expect(n.queue('notification', 'order.created')).toBe('notification.order.created');
  });

  it('When one event is delivered twice (a redelivery), then its effect happens once', async () => {
    consumers = await start();
    const event = envelope('product.stock_changed', randomUUID(), 1, stockChanged(randomUUID(), 3));
    // Injected: the same message published twice, as a relay that died before marking would.
    await publishEvents(namespace, [event, event]);
    const rows = await eventually(() => effects(db.knex), { until: (r) => r.length >= 1, timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await effects(db.knex)).toHaveLength(1);
    expect(rows[0].event_id).toBe(event.id);
    const inbox = await db.knex('inbox.processed').where({ consumer: 'effects', event_id: event.id });
    expect(inbox).toHaveLength(1);
  });

  it('When a poison event arrives (fault 8), then it is dead-lettered with its reason and the events after it flow', async () => {
    consumers = await start();
    const subject = randomUUID();
    const good1 = envelope('product.stock_changed', subject, 1, stockChanged(randomUUID(), 1));
    const poison = envelope('product.stock_changed', subject, 2, { productId: 'not-a-uuid', delta: 'many' });
    const notJson = envelope('product.stock_changed', subject, 3, {});
    const good2 = envelope('product.stock_changed', randomUUID(), 1, stockChanged(randomUUID(), 2));
    const good3 = envelope('product.stock_changed', subject, 4, stockChanged(randomUUID(), 3));
    // Injected: a payload that fails the contract schema and a body that is not JSON at all.
    await publishEvents(namespace, [good1, poison, notJson, good2, good3], (e) =>
      e.id === notJson.id ? Buffer.from('{not json') : Buffer.from(JSON.stringify(e)),
    );

    const rows = await eventually(() => effects(db.knex), { until: (r) => r.length >= 3, timeoutMs: 15_000 });
    expect(rows.map((r) => r.event_id).sort()).toEqual([good1.id, good2.id, good3.id].sort());

    const queue = names(namespace).queue('effects', 'product.stock_changed');
    const connection = await amqplib.connect(RABBITMQ_URL);
    const channel = await connection.createChannel();
    const dead: amqplib.GetMessage[] = [];
    await eventually(
      async () => {
        const m = await channel.get(names(namespace).deadLetterQueue(queue), { noAck: true });
        if (m) dead.push(m);
        return dead.length;
      },
      { until: (count) => count >= 2, timeoutMs: 15_000 },
    );
    await connection.close();
    expect(dead).toHaveLength(2);
    const byId = new Map(dead.map((m) => [m.properties.messageId, m]));
    expect(String(byId.get(poison.id)!.properties.headers![HEADERS.reason])).toMatch(/invalid product.stock_changed data: productId: .*; delta:/);
    expect(String(byId.get(notJson.id)!.properties.headers![HEADERS.reason])).toMatch(/body is not JSON/);
    // Held: the consumer did not crash-loop on them; nothing else was dead-lettered.
    expect(await db.knex('inbox.processed').count('* as n').first()).toEqual({ n: '3' });
  });

  it('When a handler fails, then the event is retried with growing delays, and after the delivery limit it is dead-lettered with the last error', async () => {
    consumers = await start();
    failuresLeft = 2;
    const retried = envelope('product.stock_changed', randomUUID(), 1, stockChanged(randomUUID(), 1));
    const startedAt = Date.now();
    await publishEvents(namespace, [retried]);
    await eventually(() => effects(db.knex), { until: (r) => r.length === 1, timeoutMs: 15_000 });
    // Two failures: waited at least 100 ms + 200 ms in the retry queues.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
    expect((await effects(db.knex))[0].event_id).toBe(retried.id);

    failuresLeft = 100;
    const doomed = envelope('product.stock_changed', randomUUID(), 1, stockChanged(randomUUID(), 1));
    await publishEvents(namespace, [doomed]);
    const queue = names(namespace).queue('effects', 'product.stock_changed');
    const connection = await amqplib.connect(RABBITMQ_URL);
    const channel = await connection.createChannel();
    const dead = await eventually(() => channel.get(names(namespace).deadLetterQueue(queue), { noAck: true }), { until: (m) => m !== false, timeoutMs: 15_000 });
    await connection.close();
    expect(dead && dead.properties.messageId).toBe(doomed.id);
    const headers = (dead as amqplib.GetMessage).properties.headers!;
    expect(String(headers[HEADERS.reason])).toBe('handler failed 4 times');
    expect(String(headers[HEADERS.error])).toBe('downstream unavailable');
    expect(await effects(db.knex)).toHaveLength(1);
  });
});
