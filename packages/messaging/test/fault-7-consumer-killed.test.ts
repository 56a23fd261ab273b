import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { migrate } from '@banyan/db';
import { inboxSchema, type InboxOutcome } from '@banyan/inbox';
import { createLogger, promClient } from '@banyan/telemetry';
import { createTestDatabase, eventually, type TestDatabase } from '@banyan/testing';
import { startConsumers, type Consumers } from '../src';
import { dropTopology, envelope, publishEvents, RABBITMQ_URL, testNamespace } from './support';

const logger = createLogger('messaging-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const CHILD = path.join(__dirname, 'fixtures/consumer-child.js');

/**
 * Fault 7. Injected: SIGKILL of a consumer process (the compiled package in a child) at two
 * points: inside its handler before the transaction commits, and after the commit before the ack.
 * Held: the first redelivery is applied (nothing had been), the second is recognised by the
 * inbox and ignored (it had been); either way the effect exists exactly once.
 */
describe('fault 7: consumer killed around its commit', () => {
  let db: TestDatabase;
  let consumers: Consumers | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('messaging_fault7');
    await migrate(db.knex, [inboxSchema]);
    await db.knex.raw('CREATE TABLE effects (event_id uuid PRIMARY KEY)');
  });
  afterEach(async () => {
    await consumers?.close();
    if (consumers) await dropTopology(consumers.topology);
    consumers = undefined;
  });
  afterAll(async () => db.drop());

  async function killAt(point: 'before-commit' | 'after-commit', namespace: string) {
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        KILL_POINT: point,
        NAMESPACE: namespace,
        RABBITMQ_URL,
        PGHOST: db.settings.host,
        PGPORT: String(db.settings.port),
        PGUSER: db.settings.user,
        PGPASSWORD: db.settings.password ?? '',
        PGDATABASE: db.settings.database,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await eventually(async () => out, { until: (o) => o.includes('consuming') || child.exitCode !== null, timeoutMs: 20_000 });
      expect(out).toContain('consuming');
      return {
        async when(line: RegExp) {
          await eventually(async () => out, { until: (o) => line.test(o), timeoutMs: 20_000 });
          expect(out).toMatch(line);
          child.kill('SIGKILL');
          await exited;
        },
      };
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  async function restartAndCount(namespace: string) {
    const outcomes: InboxOutcome[] = [];
    consumers = await startConsumers({
      url: RABBITMQ_URL,
      knex: db.knex,
      logger,
      namespace,
      subscriptions: [{ consumer: 'effects', eventType: 'product.stock_changed', handle: async (e, trx) => void (await trx('effects').insert({ event_id: e.id })) }],
      onProcessed: (_e, outcome) => void outcomes.push(outcome),
    });
    await eventually(async () => outcomes.length, { until: (n) => n >= 1, timeoutMs: 15_000 });
    return outcomes;
  }

  const effectsOf = async (id: string) => (await db.knex('effects').where({ event_id: id })).length;
  /** What `/metrics` would say for this namespace's queue: deliveries RabbitMQ flagged as redelivered. */
  const redeliveredIn = async (namespace: string) => {
    const metric = promClient.register.getSingleMetric('banyan_consumer_redelivered_total');
    const values = metric ? (await metric.get()).values : [];
    return values.filter((v) => String(v.labels.queue).startsWith(namespace)).reduce((sum, v) => sum + v.value, 0);
  };

  it('When the consumer dies before its commit, then the redelivery is applied once', async () => {
    const namespace = testNamespace('fault7a');
    const event = envelope('product.stock_changed', randomUUID(), 1, { productId: randomUUID(), delta: 1, stock: 1, reason: 'adjustment' });
    const child = await killAt('before-commit', namespace);
    await publishEvents(namespace, [event]);
    await child.when(new RegExp(`handling ${event.id}`));
    expect(await effectsOf(event.id)).toBe(0); // the open transaction died with the process

    const outcomes = await restartAndCount(namespace);
    expect(outcomes).toEqual(['processed']);
    expect(await effectsOf(event.id)).toBe(1);
    expect(await redeliveredIn(namespace)).toBe(1);
  });

  it('When the consumer dies after its commit and before its ack, then the redelivery is ignored', async () => {
    const namespace = testNamespace('fault7b');
    const event = envelope('product.stock_changed', randomUUID(), 1, { productId: randomUUID(), delta: 1, stock: 1, reason: 'adjustment' });
    const child = await killAt('after-commit', namespace);
    await publishEvents(namespace, [event]);
    await child.when(new RegExp(`committed ${event.id} processed`));
    expect(await effectsOf(event.id)).toBe(1);

    const outcomes = await restartAndCount(namespace);
    expect(outcomes).toEqual(['duplicate']);
    expect(await effectsOf(event.id)).toBe(1);
    expect(await redeliveredIn(namespace)).toBe(1);
  });
});
