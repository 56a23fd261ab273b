import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { compareTargets, renderReport } from '@banyan/parity';
import { productScenarios } from '../../../migration/parity/products';
import { backfill, loadSyncSpec, verify } from '@banyan/sync';
import { startMonolith, type MonolithHarness } from '../../../monolith/test/support/harness';
import { serve, type Served } from '@banyan/http';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { buildProductsService } from '../src';
import { productSyncSubscriptions } from '../src/events/sync';
import { continueSequences } from '@banyan/outbox';
import type { EventData, EventEnvelope } from '@banyan/events';
import { startGateway } from '../../../gateway/test/support/gateway';
import { shopParityAuth } from '../../../migration/parity/auth';

// No broker here: the service starts empty and only the backfill fills it, which is the point.
let mono: MonolithHarness;
let db: TestDatabase;
let served: Served;
let stopService: () => Promise<void>;
beforeAll(async () => {
  mono = await startMonolith('pbackfill_mono');
  db = await createTestDatabase('pbackfill_svc');
  const service = buildProductsService({ knex: db.knex, logger: createLogger('t', 'silent'), jwksUrl: `${mono.served.url}/api/users/.well-known/jwks.json` });
  await service.start();
  served = await serve(service.app, 0);
  stopService = () => service.stop();
}, 30_000);
afterAll(async () => {
  await served?.close(1000);
  await stopService?.();
  await db?.drop();
  await mono?.close();
});

const spec = loadSyncSpec('products');

/** Until another session of this database waits on a row or tuple lock. */
async function waitUntilBlocked(knex: TestDatabase['knex']) {
  for (let i = 0; i < 100; i++) {
    const { rows } = await knex.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the consumer never waited on the batch');
}
const stores = () => ({ source: mono.db.knex, target: db.knex });

describe('banyan backfill / verify for products', () => {
  test('When the catalog is backfilled, then verify finds 0 differences and a rerun writes nothing', async () => {
    await mono.monolith.modules.products.api.seedDemoCatalog();
    const before = await verify(spec, stores());
    expect(before.differences.length).toBeGreaterThan(0);

    const progress: number[] = [];
    const first = await backfill(spec, stores(), { batchSize: 3, onProgress: (p) => progress.push(p.done) });
    const total = Number((await mono.db.knex('products.products').count<{ c: string }[]>('* as c'))[0].c);
    expect(first).toEqual({ read: total, written: total, skipped: 0 });
    expect(progress.at(-1)).toBe(total);
    expect((await verify(spec, stores())).differences).toEqual([]);

    const again = await backfill(spec, stores(), { batchSize: 3 });
    expect(again).toEqual({ read: total, written: 0, skipped: total });
  });

  test('When the sync consumer has inserted the same row, uncommitted, as the backfill copies it, then the batch waits for it and keeps the copy the consumer committed: 0 differences', async () => {
    // Arrange: a product in the monolith only.
    const { token } = await mono.admin();
    const created = await mono.api.post('/api/products', { sku: `RACE-${Date.now()}`, name: 'Raced', priceCents: 900, stock: 3 }, token);
    expect(created.status).toBe(201);
    const row = await mono.db.knex('products.products').where({ id: created.body.id }).first();
    const copy = { id: row.id, sku: row.sku, name: row.name, description: row.description, price_cents: row.price_cents, stock: row.stock, version: row.version };

    // Injected: the sync consumer's insert of the same row, uncommitted while the backfill runs.
    const consumer = await db.knex.transaction();
    await consumer('products.products').insert(copy);
    const copying = backfill(spec, stores(), { batchSize: 500 });
    await waitUntilBlocked(db.knex); // the backfill's batch now waits on the sku index
    await consumer.commit();

    // Assert
    await expect(copying).resolves.toMatchObject({ read: expect.any(Number) });
    expect((await verify(spec, stores())).differences).toEqual([]);
    const kept = await db.knex('products.products').where({ id: copy.id }).first(Object.keys(copy));
    expect({ ...kept, version: Number(kept.version) }).toEqual({ ...copy, version: Number(copy.version) });
  });

  test("When the sync consumer applies a product.updated for a row a backfill batch has just written, then it waits for the batch and neither deadlocks: both lock the row before the product's sequence counter", async () => {
    // Arrange: one product, copied to the service.
    const { token } = await mono.admin();
    const created = await mono.api.post('/api/products', { sku: `LOCK-${Date.now()}`, name: 'Locked', priceCents: 500, stock: 4 }, token);
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    await backfill(spec, stores());

    // A backfill batch, held open between its two steps: the row is written, its counter not yet.
    const batch = await db.knex.transaction();
    await batch('products.products').where({ id }).update({ name: 'From the backfill', version: 2 });

    // The sync consumer's handler for the monolith's next change of that product, in its own transaction.
    const [, updated] = productSyncSubscriptions({ consumer: 'products-service-sync', from: 'monolith', fromWinsTies: false });
    const event = {
      specversion: '1.0', id: '0190a3b4-7c1d-7000-8000-00000000d3ad', source: 'monolith', type: 'product.updated', subject: id,
      time: new Date().toISOString(), datacontenttype: 'application/json', sequence: 3, origin: 'monolith',
      data: { productId: id, sku: created.body.sku, name: 'From the consumer', description: '', priceCents: 500, stock: 4 },
    } as EventEnvelope<EventData<'product.updated'>>;
    const applying = db.knex.transaction((trx) => updated.handle(event, trx));
    await waitUntilBlocked(db.knex);

    // The batch goes on to the counter: with the consumer holding it (the old order), PostgreSQL
    // would abort one of the two as a deadlock after deadlock_timeout.
    await continueSequences(batch, [{ aggregateType: 'products', aggregateId: id, sequence: 2 }]);
    await batch.commit();
    await expect(applying).resolves.toBeUndefined();

    const row = await db.knex('products.products').where({ id }).first('name', 'version');
    const [counter] = await db.knex('outbox.aggregate_sequences').where({ aggregate_type: 'products', aggregate_id: id });
    expect({ name: row.name, version: Number(row.version), counter: Number(counter.last_sequence) }).toEqual({ name: 'From the consumer', version: 3, counter: 3 });

    // The event was made up: put the monolith's copy back, so the next tests start level.
    await db.knex('products.products').where({ id }).delete();
    await backfill(spec, stores());
  });

  test('When the service holds another row under the same sku (a real collision), then the backfill fails with the unique violation after its retries, and keeps nothing of that batch', async () => {
    const { token } = await mono.admin();
    const sku = `CLASH-${Date.now()}`;
    const created = await mono.api.post('/api/products', { sku, name: 'Clash', priceCents: 100, stock: 1 }, token);
    expect(created.status).toBe(201);
    // Injected: a row of the service's own with the same sku and another id.
    const other = '0190a3b4-7c1d-7000-8000-00000000c1a5';
    await db.knex('products.products').insert({ id: other, sku, name: 'Other', description: '', price_cents: 1, stock: 1, version: 1 });
    try {
      await expect(backfill(spec, stores(), { batchSize: 500 })).rejects.toMatchObject({ code: '23505', constraint: 'products_sku_unique' });
      expect(await db.knex('products.products').where({ id: created.body.id }).first()).toBeUndefined();
    } finally {
      await db.knex('products.products').where({ id: other }).delete();
      await db.knex('banyan_sync.backfill_checkpoints').delete();
    }
  });

  test("When the service's copy is newer, then a backfill leaves it and verify names the column that differs", async () => {
    const [row] = await db.knex('products.products').orderBy('id').limit(1);
    await db.knex('products.products').where({ id: row.id }).update({ name: 'Changed in the service', version: Number(row.version) + 1 });
    await backfill(spec, stores());
    expect((await db.knex('products.products').where({ id: row.id }).first()).name).toBe('Changed in the service');

    const { differences } = await verify(spec, stores());
    expect(differences).toEqual([
      expect.objectContaining({ key: row.id, kind: 'differs', columns: expect.objectContaining({ name: [row.name, 'Changed in the service'] }) }),
    ]);
  });

  test('`banyan verify products`, the command itself: prints the difference with the column and exits 1; `banyan backfill` prints its final count', () => {
    // The CLI as users run it, pointed at this file's two databases.
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [path.resolve(__dirname, '../../../packages/cli/bin/banyan.js'), ...args], {
        env: { ...process.env, MONOLITH_DATABASE: mono.db.settings.database, PRODUCTS_DATABASE: db.settings.database, OTEL_SDK_DISABLED: 'true' },
        encoding: 'utf8',
        timeout: 30_000,
      });

    const verified = cli('verify', 'products');
    expect(verified.status).toBe(1);
    expect(verified.stdout).toMatch(/^products\.products [0-9a-f-]{36}: differs name: ".*" ≠ "Changed in the service", version: "1" ≠ "2"$/m);
    expect(verified.stdout).toContain(`, 1 difference (${mono.db.settings.database} vs ${db.settings.database})`);

    const backfilled = cli('backfill', 'products');
    expect(backfilled.status).toBe(0);
    // The service's copy is newer, so nothing is overwritten; no bar when stdout is not a terminal.
    expect(backfilled.stdout).toMatch(new RegExp(`^products: (\\d+) rows read, 0 written, \\1 already current in ${db.settings.database}\n$`));
  });

  test('When a backfill stopped part-way, then the next run resumes after its checkpoint', async () => {
    const [first, second] = await mono.db.knex('products.products').orderBy('id').limit(2);
    await db.knex('products.products').whereNot({ id: first.id }).delete();
    await db.knex.raw(`INSERT INTO banyan_sync.backfill_checkpoints (domain, table_name, last_key) VALUES ('products', 'products.products', ?)`, [first.id]);
    const result = await backfill(spec, stores());
    const total = Number((await mono.db.knex('products.products').count<{ c: string }[]>('* as c'))[0].c);
    expect(result.read).toBe(total - 1);
    expect(await db.knex('products.products').where({ id: second.id }).first()).toBeTruthy();
  });

  test('The products contract scenarios answer the same from the service (through a gateway in extracted mode) as from the monolith', async () => {
    // Scenarios register customers through /api/users, which only a gateway in front of both serves.
    const gateway = await startGateway({ label: 'pparity_gw', monolith: mono.served.url, services: { products: served.url } });
    try {
      await gateway.route('products', 'extracted');
      const { token } = await mono.admin();
      const report = await compareTargets(
        productScenarios,
        { name: 'monolith', baseUrl: mono.served.url, auth: shopParityAuth, adminToken: token },
        { name: 'service', baseUrl: gateway.url, auth: shopParityAuth, adminToken: token },
      );
      if (!report.identical) throw new Error(renderReport(report));
      expect(report.identical).toBe(true);
    } finally {
      await gateway.close();
    }
  }, 30_000);
});
