/**
 * Analytics through the whole monolith: real orders, cancellations and catalog changes over
 * HTTP, their events delivered through the inbox the way the RabbitMQ consumer delivers them,
 * then the reports read over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { startMonolith, type MonolithHarness } from './support/harness';

const GOOD = '4242424242424242';
const DECLINED = '4000000000000002';

let h: MonolithHarness;
let adminToken: string;

beforeAll(async () => {
  h = await startMonolith('analytics');
  adminToken = (await h.admin()).token;
});
afterAll(() => h.close());

async function product(name: string, priceCents: number): Promise<{ id: string }> {
  const res = await h.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name, priceCents, stock: 100 }, adminToken);
  if (res.status !== 201) throw new Error(res.text);
  return res.body;
}

const today = () => new Date().toISOString().slice(0, 10);

async function todaysSales() {
  const res = await h.api.get(`/api/analytics/sales?from=${today()}&to=${today()}`, adminToken);
  expect(res.status).toBe(200);
  return res.body as { totalCents: number; orders: number; signups: number; days: Array<{ date: string; orders: number; revenueCents: number; signups: number }> };
}

describe('analytics from the monolith\'s own events', () => {
  test('When orders are confirmed, declined and cancelled, then sales and top products count only the confirmed, uncancelled ones', async () => {
    const customer = await h.signUp();
    const [kettle, cup] = [await product('Kettle', 3000), await product('Cup', 400)];
    const before = await todaysSales();
    const order = (items: Array<{ productId: string; quantity: number }>, number = GOOD) =>
      h.api.post('/api/orders', { items, card: { number } }, customer.token);

    const kept = await order([{ productId: kettle.id, quantity: 1 }, { productId: cup.id, quantity: 4 }]);
    const declined = await order([{ productId: kettle.id, quantity: 5 }], DECLINED);
    const cancelled = await order([{ productId: cup.id, quantity: 10 }]);
    const cancel = await h.api.post(`/api/orders/${cancelled.body.id}/cancel`, undefined, customer.token);
    expect([kept.status, declined.status, cancelled.status, cancel.status]).toEqual([201, 402, 201, 200]);
    await h.deliverEvents();

    const after = await todaysSales();
    const top = await h.api.get('/api/analytics/top-products?limit=50', adminToken);

    expect(after.orders - before.orders).toBe(1);
    expect(after.totalCents - before.totalCents).toBe(3000 + 4 * 400);
    expect(after.days).toEqual([{ date: today(), orders: after.orders, revenueCents: after.totalCents, signups: after.signups }]);
    // The customer registered today through the users module: their user.registered counted.
    expect(after.signups).toBeGreaterThanOrEqual(1);
    const mine = top.body.items.filter((i: { productId: string }) => i.productId === kettle.id || i.productId === cup.id);
    expect(mine).toEqual([
      { productId: cup.id, name: 'Cup', quantity: 4, revenueCents: 1600 },
      { productId: kettle.id, name: 'Kettle', quantity: 1, revenueCents: 3000 },
    ]);
  });

  test('When an admin renames a product, then top products show the new name', async () => {
    const customer = await h.signUp();
    const lamp = await product('Lamp', 2500);
    await h.api.post('/api/orders', { items: [{ productId: lamp.id, quantity: 50 }], card: { number: GOOD } }, customer.token);
    const renamed = await h.api.patch(`/api/products/${lamp.id}`, { name: 'Reading Lamp' }, adminToken);
    expect(renamed.status).toBe(200);

    await h.deliverEvents();
    const top = await h.api.get('/api/analytics/top-products?limit=50', adminToken);

    expect(top.body.items.find((i: { productId: string }) => i.productId === lamp.id)).toEqual({
      productId: lamp.id,
      name: 'Reading Lamp',
      quantity: 50,
      revenueCents: 125_000,
    });
  });

  test.each([['/api/analytics/sales'], ['/api/analytics/top-products']])(
    'When a customer asks for %s, then 403 AUTH.FORBIDDEN; without a token 401 AUTH.UNAUTHORIZED; an admin gets 200',
    async (path) => {
      const customer = await h.signUp();

      const asCustomer = await h.api.get(path, customer.token);
      const anonymous = await h.api.get(path);
      const asAdmin = await h.api.get(path, adminToken);

      expect({ status: asCustomer.status, code: asCustomer.body.code }).toEqual({ status: 403, code: 'AUTH.FORBIDDEN' });
      expect(asCustomer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect({ status: anonymous.status, code: anonymous.body.code }).toEqual({ status: 401, code: 'AUTH.UNAUTHORIZED' });
      expect(asAdmin.status).toBe(200);
    },
  );

  test('When from is after to, then 400 VALIDATION.FAILED', async () => {
    const res = await h.api.get('/api/analytics/sales?from=2025-02-01&to=2025-01-01', adminToken);

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION.FAILED');
  });
});
