import { serve, type Served } from '@banyan/http';
import { removeTopology, startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, http, testNamespace, type TestDatabase } from '@banyan/testing';
import { startMonolith, type MonolithHarness } from '../../../../monolith/test/support/harness';
import { buildProductsService } from '../../src';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface ProductsPair {
  mono: MonolithHarness;
  service: { db: TestDatabase; served: Served; api: ReturnType<typeof http> };
  adminToken: string;
  close(): Promise<void>;
}

/**
 * The monolith and the products service as they run during an extraction: two databases, each
 * with its own relay, each consuming the other's product events from RabbitMQ. Every exchange
 * and queue is prefixed with a namespace of this file's own, so files run in parallel.
 */
export async function startProductsPair(label: string): Promise<ProductsPair> {
  const namespace = testNamespace(label);
  const logger = createLogger('products-pair', process.env.TEST_LOG_LEVEL ?? 'silent');
  const mono = await startMonolith(`${label}_mono`);
  const db = await createTestDatabase(`${label}_svc`);
  const built = buildProductsService({ knex: db.knex, logger, jwksUrl: `${mono.served.url}/api/users/.well-known/jwks.json` });
  await built.start();
  const served = await serve(built.app, 0);

  const relays: Relay[] = [];
  const consumers: Consumers[] = [];
  // Consumers first: they declare the queues, so no event published after this is dropped.
  consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions: mono.monolith.modules.products.syncSubscriptions ?? [], logger, namespace }));
  consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: db.knex, subscriptions: built.definition.subscriptions ?? [], logger, namespace }));
  for (const database of [mono.db.settings, db.settings]) {
    const relay = createRelay({ database, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 200 });
    await relay.start();
    relays.push(relay);
  }
  const { token } = await mono.admin();
  return {
    mono,
    service: { db, served, api: http(served.url) },
    adminToken: token,
    async close() {
      for (const relay of relays) await relay.stop();
      for (const c of consumers) await c.close();
      await removeTopology(RABBITMQ_URL, consumers.map((c) => c.topology));
      await served.close(1000);
      await built.stop();
      await db.drop();
      await mono.close();
    },
  };
}

export const productRow = (db: { knex: TestDatabase['knex'] }, id: string) =>
  db.knex('products.products').where({ id }).first('id', 'sku', 'name', 'description', 'price_cents', 'stock', 'version');
