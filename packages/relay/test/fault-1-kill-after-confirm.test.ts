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

    // Held so far: the outbox still calls all 200 unpublished, while the consumer got the
    // confirmed batch (and the start of the next one, which the relay pipelines behind it).
    expect(await unpublished(db.knex)).toBe(200);
    let before = -1;
    for (let i = 0; i < 200 && (outcomes.processed < 50 || outcomes.processed !== before); i++) {
      before = outcomes.processed;
      await sleep(100);
    }
    const deliveredBeforeRestart = outcomes.processed;
    expect(deliveredBeforeRestart).toBeGreaterThanOrEqual(50);
    expect(deliveredBeforeRestart).toBeLessThanOrEqual(100);

    relay = await startRelay(db, namespace);
    const expected = 200 + deliveredBeforeRestart;
    for (let i = 0; i < 300 && outcomes.processed + outcomes.duplicate < expected; i++) await sleep(50);
    await sleep(300);

    // Counted: every event delivered, the ones delivered before the kill delivered again, each
    // effect applied once and every repeat recognised by the inbox.
    expect(outcomes).toEqual({ processed: 200, duplicate: deliveredBeforeRestart });
    expect(Number((await db.knex('effects').count<{ n: string }[]>('* as n'))[0].n)).toBe(200);
    expect(await unpublished(db.knex)).toBe(0);
  });
});
