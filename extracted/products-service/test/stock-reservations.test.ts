import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '@banyan/db';
import { eventually } from '@banyan/testing';
import { productRow } from './support/pair';
import { startProductsSystem, type ProductsSystem } from './support/system';

let system: ProductsSystem;
let productId: string;
let serviceToken: string;
beforeAll(async () => {
  system = await startProductsSystem('presv');
  const created = await system.gateway.api.post('/api/products', { sku: `RSV-${Date.now()}`, name: 'Reservable', priceCents: 700, stock: 50 }, system.adminToken);
  productId = created.body.id;
  await eventually(async () => expect(await productRow(system.service.db, productId)).toBeTruthy(), { timeoutMs: 10_000 });
  await system.gateway.route('products', 'extracted');
  await eventually(async () => expect(system.routing.isExtracted('products')).toBe(true), { timeoutMs: 10_000 });
  ({ token: serviceToken } = await system.mono.monolith.modules.users.api.issueServiceToken('test:products'));
}, 30_000);
afterAll(() => system?.close());

const serviceStock = async () => (await productRow(system.service.db, productId)).stock as number;

describe("The products service's stock endpoints for the monolith's door", () => {
  test('When a customer or an admin calls them, then the service answers 403, the public gateway 404 before routing, and no stock moves', async () => {
    const customer = await system.mono.signUp();
    const body = { orderId: uuidv7(), items: [{ productId, quantity: 1 }] };
    for (const token of [customer.token, system.adminToken]) {
      expect((await system.service.api.post('/api/products/reservations', body, token)).status).toBe(403);
      expect((await system.service.api.post('/api/products/releases', body, token)).status).toBe(403);
      expect((await system.gateway.api.post('/api/products/reservations', body, token)).status).toBe(404);
    }
    // Not even the monolith's own service token opens them through the public port.
    expect((await system.gateway.api.post('/api/products/reservations', body, serviceToken)).status).toBe(404);
    expect((await system.service.api.post('/api/products/reservations', body)).status).toBe(401);
    expect(await serviceStock()).toBe(50);
  });

  test('When a reservation is repeated with the same order id, then the stock is taken once and both answers match', async () => {
    const before = await serviceStock();
    const body = { orderId: uuidv7(), items: [{ productId, quantity: 2 }] };
    const first = await system.service.api.post('/api/products/reservations', body, serviceToken);
    const again = await system.service.api.post('/api/products/reservations', body, serviceToken);
    expect(first.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(first.body.items).toEqual([{ productId, quantity: 2, priceCents: 700 }]);
    expect(await serviceStock()).toBe(before - 2);

    // The release is keyed the same way: repeated, it gives the stock back once.
    for (let i = 0; i < 2; i++) expect((await system.service.api.post('/api/products/releases', body, serviceToken)).status).toBe(204);
    expect(await serviceStock()).toBe(before);
  });

  test('When the cancellation overtakes the reservation it compensates, then the late reservation takes nothing', async () => {
    const before = await serviceStock();
    const orderId = uuidv7();
    expect((await system.service.api.post(`/api/products/reservations/${orderId}/cancel`, {}, serviceToken)).status).toBe(204);
    const late = await system.service.api.post('/api/products/reservations', { orderId, items: [{ productId, quantity: 3 }] }, serviceToken);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('PRODUCTS.RESERVATION_CANCELLED');
    expect(await serviceStock()).toBe(before);
  });

  test("When the order's transaction rolls back after the door reserved at the service, then the reservation is cancelled and the monolith's stock was never written", async () => {
    const before = await serviceStock();
    const orderId = uuidv7();
    const { products } = system.mono.monolith.modules;
    await expect(
      withTransaction(system.mono.db.knex, async (trx) => {
        const reserved = await products.api.reserveStock(trx, orderId, [{ productId, quantity: 4 }]);
        expect(reserved).toEqual([{ productId, quantity: 4, priceCents: 700 }]);
        expect(await serviceStock()).toBe(before - 4);
        throw new Error('the order could not be recorded');
      }),
    ).rejects.toThrow('the order could not be recorded');

    await eventually(async () => expect(await serviceStock()).toBe(before), { timeoutMs: 10_000 });
    await eventually(
      async () => expect(await system.mono.db.knex('products.remote_reservations').where({ order_id: orderId }).first('state')).toEqual({ state: 'cancelled' }),
      { timeoutMs: 10_000 },
    );
    const [reservedEvents] = await system.mono.db.knex('outbox.events').where({ type: 'product.stock_changed' }).whereRaw(`data->>'orderId' = ?`, [orderId]).count<{ count: string }[]>('* as count');
    expect(Number(reservedEvents.count)).toBe(0);
  });

  test('When a checkout through the gateway is declined while products is extracted, then the service takes the stock and gives it back after the order commits', async () => {
    const before = await serviceStock();
    const customer = await system.mono.signUp();
    const declined = await system.gateway.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: { number: '4000000000000002' } }, customer.token);
    expect(declined.status).toBe(402);
    await eventually(async () => expect(await serviceStock()).toBe(before), { timeoutMs: 10_000 });
    const ledger = await system.mono.db.knex('products.remote_reservations').where({ order_id: declined.body.orderId }).first('state');
    expect(ledger).toEqual({ state: 'released' });
    // And the monolith's copy follows through the service's events.
    await eventually(async () => expect((await productRow(system.mono.db, productId)).stock).toBe(before), { timeoutMs: 10_000 });
  });

  test('When the products service is down, then checkout fails fast with 503 SERVICE.UNAVAILABLE and takes nothing', async () => {
    const before = await serviceStock();
    const customer = await system.mono.signUp();
    await system.service.served.close(1000);
    const res = await system.gateway.api.post('/api/orders', { items: [{ productId, quantity: 1 }], card: { number: '4242424242424242' } }, customer.token);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SERVICE.UNAVAILABLE');
    expect(await serviceStock()).toBe(before);
    expect(await system.mono.db.knex('orders.orders').where({ user_id: customer.user.id }).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
  });
});
