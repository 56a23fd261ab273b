import { migrate, withTransaction } from '@banyan/db';
import { continueSequences, createOutbox, outboxSchema } from '@banyan/outbox';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { gatewayConfigSchema } from '../src';
import { createOutboxDrainCheck } from '../src/fence-outbox';
import { topologyOf } from '../src/topology';
import { shopMigration } from './support/declaration';

/**
 * The switch fence's two questions (ADR 0303), asked of real outboxes: has the old side published
 * the domain's events, and has the new side applied them? Two databases stand for the monolith
 * and the products service; their outbox tables are the real ones, written by the real outbox.
 */
let mono: TestDatabase;
let service: TestDatabase;
let check: ReturnType<typeof createOutboxDrainCheck>;
const P1 = '0190a3b4-7c1d-7000-8000-0000000fe001';
const P2 = '0190a3b4-7c1d-7000-8000-0000000fe002';

/** The shop's products domain, its two databases overridden as the declaration allows (MONOLITH_DATABASE, PRODUCTS_DATABASE). */
const drainCheckFor = (productsDatabase: string) => {
  const env = {
    ...process.env,
    BANYAN_ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
    MONOLITH_URL: 'http://127.0.0.1:1',
    MONOLITH_DATABASE: mono.settings.database,
    PRODUCTS_DATABASE: productsDatabase,
  };
  return createOutboxDrainCheck(gatewayConfigSchema.parse(env), topologyOf(shopMigration(env)));
};

beforeAll(async () => {
  mono = await createTestDatabase('fence_mono');
  service = await createTestDatabase('fence_svc');
  await migrate(mono.knex, [outboxSchema]);
  await migrate(service.knex, [outboxSchema]);
  check = drainCheckFor(service.settings.database);
});
afterAll(async () => {
  await check?.close();
  await mono?.drop();
  await service?.drop();
});

const outbox = createOutbox({ source: 'monolith', origin: 'monolith' });
const stockChanged = (productId: string, stock: number) => ({ type: 'product.stock_changed', subject: productId, data: { productId, delta: -1, stock, reason: 'adjustment' } });

describe("The fence's questions to the two outboxes", () => {
  test('When the monolith has written products events, then it is drained only once they are published, and the service has applied them only once its counters reach each product’s last sequence', async () => {
    const since = Date.now() - 5_000;
    // The old side writes P1 twice and P2 once, in three transactions.
    await withTransaction(mono.knex, (trx) => outbox.add(trx, stockChanged(P1, 9)));
    await withTransaction(mono.knex, (trx) => outbox.add(trx, stockChanged(P1, 8)));
    await withTransaction(mono.knex, (trx) => outbox.add(trx, stockChanged(P2, 4)));

    expect(await check.drained('products', ['monolith'])).toBe(false);
    await mono.knex('outbox.events').update({ published_at: mono.knex.fn.now() });
    expect(await check.drained('products', ['monolith'])).toBe(true);

    // Nothing applied on the service yet.
    expect(await check.applied('products', ['monolith'], 'extracted', since)).toBe(false);
    // Its sync consumer applies P1's first event and P2's: P1 is still one behind.
    await withTransaction(service.knex, (trx) =>
      continueSequences(trx, [
        { aggregateType: 'products', aggregateId: P1, sequence: 1 },
        { aggregateType: 'products', aggregateId: P2, sequence: 1 },
      ]),
    );
    expect(await check.applied('products', ['monolith'], 'extracted', since)).toBe(false);
    // Then P1's second.
    await withTransaction(service.knex, (trx) => continueSequences(trx, [{ aggregateType: 'products', aggregateId: P1, sequence: 2 }]));
    expect(await check.applied('products', ['monolith'], 'extracted', since)).toBe(true);
  });

  test('When the old side wrote nothing since the fence’s horizon (on the database’s clock), then there is nothing to wait for', async () => {
    await withTransaction(mono.knex, (trx) => outbox.add(trx, stockChanged(P2, 3)));
    await mono.knex('outbox.events').whereNull('published_at').update({ created_at: mono.knex.raw(`now() - interval '1 hour'`), published_at: mono.knex.raw(`now() - interval '1 hour'`) });
    expect(await check.applied('products', ['monolith'], 'extracted', Date.now() - 5_000)).toBe(true);
  });

  test('When the new side has no database, or the domain no sync spec, then the fence cannot tell (undefined) and waits its settle period instead', async () => {
    const nowhere = drainCheckFor('banyan_test_fence_no_such_database');
    try {
      await withTransaction(mono.knex, (trx) => outbox.add(trx, stockChanged(P1, 7)));
      await mono.knex('outbox.events').whereNull('published_at').update({ published_at: mono.knex.fn.now() });
      expect(await nowhere.applied('products', ['monolith'], 'extracted', Date.now() - 5_000)).toBeUndefined();
    } finally {
      await nowhere.close();
    }
    expect(await check.applied('analytics', ['monolith'], 'extracted', Date.now() - 5_000)).toBeUndefined();
    expect(await check.drained('analytics', ['monolith'])).toBe(true);
  });
});
