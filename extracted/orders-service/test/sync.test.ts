import { randomUUID } from 'node:crypto';
import { createLogger } from '@banyan/telemetry';
import { startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { backfill, loadSyncSpec, verify } from '@banyan/sync';
import { eventually } from '@banyan/testing';
import { startMonolith, type MonolithHarness } from '../../../monolith/test/support/harness';
import { startOrdersSystem, type OrdersSystem } from './support/system';

/**
 * Orders' data in step both ways (ADR 0314): `banyan backfill orders` copies the monolith's orders
 * and lines into the service's database, and `banyan verify orders` compares them; then each
 * side's order events, published by its relay on RabbitMQ, are applied by the other side's sync
 * consumer, so orders taken on either side are on both.
 */
const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const CARD = { number: '4242424242424242' };
const DECLINED = { number: '4000000000000002' };
const spec = loadSyncSpec('orders');

let sys: OrdersSystem;
let mono: MonolithHarness;
let relay: Relay;
let consumers: Consumers;
beforeAll(async () => {
  sys = await startOrdersSystem('orders_sync');
  mono = await startMonolith('orders_sync_mono');
}, 120_000);
afterAll(async () => {
  await consumers?.close();
  await relay?.stop();
  await mono?.close();
  await sys?.close();
});

const db = () => ({ source: mono.db.knex, target: sys.orders.db.knex });

describe('orders data on both sides', () => {
  test('When the monolith has orders, then backfill copies the ones that happened (with their lines) and verify finds no difference', async () => {
    const { token } = await mono.signUp();
    const admin = await mono.admin();
    const product = await mono.api.post('/api/products', { sku: `sync-${randomUUID().slice(0, 8)}`, name: 'Thing', priceCents: 700, stock: 10 }, admin.token);
    const productId = product.body.id as string;
    const place = (card: typeof CARD, quantity = 1) => mono.api.post('/api/orders', { items: [{ productId, quantity }], card }, token);
    const confirmed = await place(CARD, 2);
    expect(confirmed.status).toBe(201);
    expect((await place(DECLINED)).status).toBe(402);
    const toCancel = await place(CARD);
    expect((await mono.api.post(`/api/orders/${toCancel.body.id}/cancel`, undefined, token)).status).toBe(200);

    const copied = await backfill(spec, db());
    expect(copied.written).toBe(6);
    const report = await verify(spec, db());
    expect(report.differences).toEqual([]);
    expect(report.compared).toBe(6);
    const row = await sys.orders.db.knex('orders.orders').where({ id: toCancel.body.id }).first();
    expect([row.status, Number(row.version)]).toEqual(['cancelled', 3]);
  }, 60_000);

  test("When orders are taken on either side, then the other side's sync consumer applies them and verify finds no difference", async () => {
    const logger = createLogger('orders-sync-test', process.env.TEST_LOG_LEVEL ?? 'silent');
    // The monolith's side of the broker: its relay, and its orders module's sync consumer.
    consumers = await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions: mono.monolith.modules.orders.syncSubscriptions ?? [], logger, namespace: sys.namespace });
    relay = createRelay({ database: mono.db.settings, url: RABBITMQ_URL, logger, namespace: sys.namespace, pollIntervalMs: 100 });
    await relay.start();

    // On the monolith, in-process: reaches the service through the service's sync consumer.
    const { token } = await mono.signUp();
    const admin = await mono.admin();
    const monoProduct = await mono.api.post('/api/products', { sku: `sync-${randomUUID().slice(0, 8)}`, name: 'Thing', priceCents: 300, stock: 5 }, admin.token);
    const atMonolith = await mono.api.post('/api/orders', { items: [{ productId: monoProduct.body.id, quantity: 1 }], card: CARD }, token);
    expect(atMonolith.status).toBe(201);

    // On the service, through its saga: reaches the monolith through the monolith's consumer.
    const customer = await sys.token(randomUUID());
    const productId = await sys.product(5);
    const atService = await sys.orders.api.post('/api/orders', { items: [{ productId, quantity: 2 }], card: CARD }, customer);
    expect(atService.status).toBe(201);
    const declinedAtService = await sys.orders.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: DECLINED }, customer);
    expect(declinedAtService.status).toBe(402);
    const cancelledAtService = await sys.orders.api.post(`/api/orders/${atService.body.id}/cancel`, undefined, customer);
    expect(cancelledAtService.status).toBe(200);

    await eventually(
      async () => {
        const report = await verify(spec, db());
        if (report.differences.length) throw new Error(JSON.stringify(report.differences));
        return report;
      },
      { timeoutMs: 20_000 },
    );
    const there = await mono.db.knex('orders.orders').where({ id: atService.body.id }).first();
    expect(there.status).toBe('cancelled');
    expect((await sys.orders.db.knex('orders.orders').where({ id: atMonolith.body.id }).first()).status).toBe('confirmed');
  }, 60_000);
});
