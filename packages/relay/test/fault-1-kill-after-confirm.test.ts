import type { Knex } from '@banyan/db';
import type { InboxOutcome } from '@banyan/inbox';
import { startConsumers, type Consumers } from '@banyan/messaging';
import type { TestDatabase } from '@banyan/testing';
import path from 'node:path';
import type { Relay } from '../src';
import { childEnv, dropTopology, logger, outboxDatabase, RABBITMQ_URL, sleep, spawnNode, startRelay, testNamespace, unpublished, writeEvents } from './support';

/**
 * Fault 1. Injected: SIGKILL of a relay process after RabbitMQ confirmed its first batch and
 * before it marked those rows published. Held: the rows stay unpublished, a new relay re-sends
 * them, the consumer receives them twice, and each effect happens once (the inbox).
 */
describe('fault 1: relay killed between confirm and mark', () => {
  let db: TestDatabase;
  let consumers: Consumers | undefined;
  let relay: Relay | undefined;
  const namespace = testNamespace('fault1');
  const outcomes: Record<InboxOutcome, number> = { processed: 0, duplicate: 0 };

  beforeAll(async () => {
    db = await outboxDatabase('relay_fault1');
    await db.knex.raw('CREATE TABLE effects (event_id uuid PRIMARY KEY, applied_at timestamptz DEFAULT now())');
    consumers = await startConsumers({
      url: RABBITMQ_URL,
      knex: db.knex,
      logger,
      namespace,
      prefetch: 50,
      subscriptions: [
        {
          consumer: 'effects',
          eventType: 'product.stock_changed',
          handle: async (event, trx: Knex.Transaction) => {
            // A plain insert: a second application of one event would fail loudly on the key.
            await trx('effects').insert({ event_id: event.id });
          },
        },
      ],
      onProcessed: (_event, outcome) => {
        outcomes[outcome]++;
      },
    });
  });

  afterAll(async () => {
    await relay?.stop();
    await consumers?.close();
    if (consumers) await dropTopology(consumers.topology);
    await db.drop();
  });

  it('When the relay dies after the confirms and before marking, then the batch is re-sent and each effect happens once', async () => {
    await writeEvents(db.knex, 200, { aggregates: 10 });
    const child = spawnNode(path.join(__dirname, 'fixtures/relay-until-confirmed.js'), {
      ...childEnv(db, namespace),
      RELAY_BATCH_SIZE: '50',
    });
    const line = await child.waitForLine(/^confirmed \d+ of \d+/);
    await child.kill9();
    expect(line).toBe('confirmed 50 of 50');

    // Held so far: the broker has 50 events, the outbox still calls all 200 unpublished.
    expect(await unpublished(db.knex)).toBe(200);
    for (let i = 0; i < 200 && outcomes.processed < 50; i++) await sleep(50);
    expect(outcomes.processed).toBe(50);

    relay = await startRelay(db, namespace);
    for (let i = 0; i < 300 && outcomes.processed + outcomes.duplicate < 250; i++) await sleep(50);
    await sleep(300);

    // Counted: 250 deliveries (200 + the 50 re-sent), 200 effects, 50 recognised as repeats.
    expect(outcomes).toEqual({ processed: 200, duplicate: 50 });
    expect(Number((await db.knex('effects').count<{ n: string }[]>('* as n'))[0].n)).toBe(200);
    expect(await unpublished(db.knex)).toBe(0);
  });
});
