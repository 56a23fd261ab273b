import { randomUUID } from 'node:crypto';
import { migrate } from '@banyan/db';
import { inboxSchema, type Subscription } from '@banyan/inbox';
import { createLogger, promClient } from '@banyan/telemetry';
import { createTestDatabase, eventually, type TestDatabase } from '@banyan/testing';
import { names, startConsumers, type Consumers } from '../src';
import { dropTopology, envelope, publishEvents, RABBITMQ_URL, testNamespace } from './support';

const logger = createLogger('messaging-test', process.env.TEST_LOG_LEVEL ?? 'silent');

/**
 * Consumer metrics per queue, read from the default registry as /metrics serves it: each
 * message's fate (processed, duplicate, retried, dead-lettered invalid or exhausted) counted once.
 */
describe('consumer metrics (real RabbitMQ, real PostgreSQL)', () => {
  let db: TestDatabase;
  let consumers: Consumers | undefined;
  const namespace = testNamespace('metrics');
  const queue = names(namespace).queue('counted', 'product.stock_changed');
  const failing = new Set<string>();

  const subscription: Subscription = {
    consumer: 'counted',
    eventType: 'product.stock_changed',
    async handle(event) {
      if (failing.has(event.subject)) throw new Error('downstream unavailable');
    },
  };

  beforeAll(async () => {
    db = await createTestDatabase('messaging_metrics');
    await migrate(db.knex, [inboxSchema]);
  });
  afterAll(async () => {
    await consumers?.close();
    if (consumers) await dropTopology(consumers.topology);
    await db.drop();
  });

  const value = async (series: string) => {
    const line = (await promClient.register.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };

  it('When messages are applied, repeated, invalid and failing, then each outcome is counted on its queue', async () => {
    // Retry at once, dead-letter on the second failure: the test sees the whole path in ms.
    consumers = await startConsumers({ url: RABBITMQ_URL, knex: db.knex, subscriptions: [subscription], logger, namespace, retry: { delaysMs: [10], maxAttempts: 2 } });
    const [good, failingId, invalidId] = [randomUUID(), randomUUID(), randomUUID()];
    const ok = envelope('product.stock_changed', good, 1, { productId: good, delta: 1, stock: 1, reason: 'adjustment' });
    const bad = envelope('product.stock_changed', failingId, 1, { productId: failingId, delta: 1, stock: 1, reason: 'adjustment' });
    failing.add(failingId);
    await publishEvents(namespace, [ok, ok, bad]);
    await publishEvents(namespace, [envelope('product.stock_changed', invalidId, 1, { nonsense: true })]);

    const series = {
      processed: `banyan_consumer_processed_total{queue="${queue}",outcome="processed"}`,
      duplicate: `banyan_consumer_processed_total{queue="${queue}",outcome="duplicate"}`,
      retried: `banyan_consumer_retried_total{queue="${queue}"}`,
      invalid: `banyan_consumer_dead_lettered_total{queue="${queue}",reason="invalid"}`,
      exhausted: `banyan_consumer_dead_lettered_total{queue="${queue}",reason="exhausted"}`,
      failedRuns: `banyan_consumer_process_duration_seconds_count{queue="${queue}",result="error"}`,
    };
    const read = async () => Object.fromEntries(await Promise.all(Object.entries(series).map(async ([k, s]) => [k, await value(s)] as const)));
    const expected = { processed: 1, duplicate: 1, retried: 1, invalid: 1, exhausted: 1, failedRuns: 2 };
    expect(await eventually(read, { until: (v) => JSON.stringify(v) === JSON.stringify(expected), timeoutMs: 10_000 })).toEqual(expected);
    expect(await value(`banyan_consumer_redelivered_total{queue="${queue}"}`)).toBe(0);
  }, 20_000);
});
