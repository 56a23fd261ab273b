/**
 * The analytics module on its own, against a real database: events are delivered through the
 * inbox as the RabbitMQ consumer delivers them (processOnce), in the orders different queues can
 * produce, and the module's HTTP router is served over real HTTP.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import { createTokenVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@banyan/auth';
import { migrate } from '@banyan/db';
import { eventSchemas, type EventEnvelope, type EventType } from '@banyan/events';
import { createHttpApp, finishHttpApp, serve, type Served } from '@banyan/http';
import { inboxSchema, processOnce } from '@banyan/inbox';
import { createOutbox, outboxSchema } from '@banyan/outbox';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, http, type TestDatabase } from '@banyan/testing';
import { monolithConfigSchema } from '../src/config';
import type { Module } from '../src/kernel';
import { createAnalyticsModule } from '../src/modules/analytics';
import { staticRoutes } from '@banyan/routing-client';

let db: TestDatabase;
let served: Served;
let analytics: Module;
/** The reports are for admins; `customerToken` is for the test that they refuse anyone else. */
let token: string;
let customerToken: string;
let api: ReturnType<typeof http>;

beforeAll(async () => {
  db = await createTestDatabase('analytics_read_models');
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256' };
  analytics = createAnalyticsModule({
    knex: db.knex,
    outbox: createOutbox({ source: '/banyan/monolith', origin: 'monolith' }),
    routing: staticRoutes(),
    logger: createLogger('analytics-test', 'silent'),
    config: monolithConfigSchema.parse({ LOG_LEVEL: 'silent' }),
    verifier: createTokenVerifier({ jwks: { keys: [jwk] } }),
  });
  await migrate(db.knex, [outboxSchema, inboxSchema, analytics.schema]);
  const app = createHttpApp({ logger: createLogger('analytics-test', 'silent') });
  app.use('/api/analytics', analytics.router);
  served = await serve(finishHttpApp(app));
  api = http(served.url);
  const sign = (role: string) =>
    new SignJWT({ email: `${role}@example.com`, role })
      .setProtectedHeader({ alg: 'ES256', kid: 'test' })
      .setSubject(uuidv7())
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  token = await sign('admin');
  customerToken = await sign('customer');
});

afterAll(async () => {
  await served.close(100);
  await db.drop();
});

const sequences = new Map<string, number>();

/** An envelope with contract-valid data; the sequence counts per aggregate unless given. */
function envelope<T extends EventType>(type: T, subject: string, data: unknown, sequence?: number): EventEnvelope {
  const next = sequence ?? (sequences.get(subject) ?? 0) + 1;
  sequences.set(subject, Math.max(next, sequences.get(subject) ?? 0));
  return {
    specversion: '1.0',
    id: uuidv7(),
    source: '/banyan/monolith',
    type,
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    sequence: next,
    origin: 'monolith',
    data: eventSchemas[type].parse(data),
  };
}

interface Line {
  productId: string;
  quantity: number;
  priceCents: number;
}

/** The two events of one order: order.confirmed and a customer's (or a declined payment's) order.cancelled. */
function order(items: Line[], confirmedAt: string) {
  const orderId = uuidv7();
  const userId = uuidv7();
  const totalCents = items.reduce((sum, i) => sum + i.quantity * i.priceCents, 0);
  return {
    orderId,
    totalCents,
    confirmed: () => envelope('order.confirmed', orderId, { orderId, userId, paymentId: uuidv7(), totalCents, items, confirmedAt }),
    cancelledByCustomer: () =>
      envelope('order.cancelled', orderId, { orderId, userId, reason: 'customer', status: 'cancelled', totalCents, items, wasConfirmed: true, cancelledAt: confirmedAt }),
    declined: () =>
      envelope('order.cancelled', orderId, { orderId, userId, reason: 'payment_declined', status: 'payment_declined', totalCents, items, wasConfirmed: false, cancelledAt: confirmedAt }),
  };
}

function product(productId: string, name: string, sequence: number, type: 'product.created' | 'product.updated') {
  return envelope(type, productId, { productId, sku: `SKU-${productId.slice(-6)}`, name, description: '', priceCents: 100, stock: 5 }, sequence);
}

async function deliver(...events: EventEnvelope[]) {
  const outcomes = [];
  for (const event of events) {
    const subscription = analytics.subscriptions.find((s) => s.eventType === event.type)!;
    outcomes.push(await processOnce(db.knex, subscription.consumer, event, subscription.handle));
  }
  return outcomes;
}

const sales = (from: string, to: string) => api.get(`/api/analytics/sales?from=${from}&to=${to}`, token);

async function topFor(productIds: string[]) {
  const res = await api.get('/api/analytics/top-products?limit=50', token);
  expect(res.status).toBe(200);
  return res.body.items.filter((i: { productId: string }) => productIds.includes(i.productId));
}

describe('analytics: daily sales', () => {
  test('When user.registered arrives, even twice, then the customer counts once as a signup on the UTC day of the event', async () => {
    const userId = uuidv7();
    const registered = { ...envelope('user.registered', userId, { userId, email: `new-${userId.slice(-6)}@example.com`, name: 'Né', role: 'customer' }), time: '2024-04-01T23:59:00-01:00' };

    const outcomes = await deliver(registered, registered);
    const res = await sales('2024-04-01', '2024-04-02');

    expect(outcomes).toEqual(['processed', 'duplicate']);
    expect(res.body).toMatchObject({ signups: 1, orders: 0, days: [{ date: '2024-04-01', signups: 0 }, { date: '2024-04-02', signups: 1 }] });
  });

  test('When orders are confirmed, then sales count them on their UTC day, with every day of the range listed', async () => {
    const [p1, p2] = [uuidv7(), uuidv7()];
    const a = order([{ productId: p1, quantity: 2, priceCents: 1000 }], '2024-03-10T09:00:00Z');
    const b = order([{ productId: p2, quantity: 1, priceCents: 550 }], '2024-03-10T23:30:00Z');
    // 23:30 at UTC-02:00 is 01:30 UTC the next day.
    const c = order([{ productId: p1, quantity: 1, priceCents: 1000 }], '2024-03-11T23:30:00-02:00');

    await deliver(a.confirmed(), b.confirmed(), c.confirmed());
    const res = await sales('2024-03-09', '2024-03-12');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2024-03-09',
      to: '2024-03-12',
      totalCents: 2000 + 550 + 1000,
      orders: 3,
      signups: 0,
      days: [
        { date: '2024-03-09', orders: 0, revenueCents: 0, signups: 0 },
        { date: '2024-03-10', orders: 2, revenueCents: 2550, signups: 0 },
        { date: '2024-03-11', orders: 0, revenueCents: 0, signups: 0 },
        { date: '2024-03-12', orders: 1, revenueCents: 1000, signups: 0 },
      ],
    });
    const narrow = await sales('2024-03-10', '2024-03-10');
    expect(narrow.body).toMatchObject({ totalCents: 2550, orders: 2, days: [{ date: '2024-03-10', orders: 2, revenueCents: 2550 }] });
  });

  test.each([
    ['order.confirmed then order.cancelled', '2024-05-01', (o: ReturnType<typeof order>) => [o.confirmed(), o.cancelledByCustomer()]],
    ['order.cancelled then order.confirmed', '2024-05-02', (o: ReturnType<typeof order>) => [o.cancelledByCustomer(), o.confirmed()]],
  ])('When a customer cancels a confirmed order (%s), then it no longer counts', async (_arrival, day, events) => {
    const productId = uuidv7();
    const kept = order([{ productId, quantity: 1, priceCents: 700 }], `${day}T12:00:00Z`);
    const cancelled = order([{ productId, quantity: 3, priceCents: 700 }], `${day}T13:00:00Z`);

    await deliver(kept.confirmed(), ...events(cancelled));
    const res = await sales(day, day);
    const top = await topFor([productId]);

    expect(res.body).toMatchObject({ totalCents: 700, orders: 1 });
    expect(top).toEqual([{ productId, name: null, quantity: 1, revenueCents: 700 }]);
  });

  test('When an order\'s payment is declined, then it never counts', async () => {
    const productId = uuidv7();
    const declined = order([{ productId, quantity: 4, priceCents: 300 }], '2024-06-01T10:00:00Z');

    await deliver(declined.declined());
    const res = await sales('2024-06-01', '2024-06-01');

    expect(res.body).toMatchObject({ totalCents: 0, orders: 0 });
    expect(await topFor([productId])).toEqual([]);
  });

  test('When order.confirmed is delivered three times, then the order counts once', async () => {
    const confirmed = order([{ productId: uuidv7(), quantity: 1, priceCents: 4200 }], '2024-07-04T10:00:00Z').confirmed();

    const outcomes = await deliver(confirmed, confirmed, confirmed);
    const res = await sales('2024-07-04', '2024-07-04');

    expect(outcomes).toEqual(['processed', 'duplicate', 'duplicate']);
    expect(res.body).toMatchObject({ totalCents: 4200, orders: 1 });
  });

  test('Without from and to, then the last 30 days up to today (UTC) are reported', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const thirtyDaysAgo = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    const confirmed = order([{ productId: uuidv7(), quantity: 1, priceCents: 123 }], new Date().toISOString());
    await deliver(confirmed.confirmed());

    const res = await api.get('/api/analytics/sales', token);

    expect(res.status).toBe(200);
    expect(res.body.from).toBe(thirtyDaysAgo);
    expect(res.body.to).toBe(today);
    expect(res.body.days).toHaveLength(30);
    expect(res.body.days[29]).toEqual({ date: today, orders: expect.any(Number), revenueCents: expect.any(Number), signups: expect.any(Number) });
    expect(res.body.days[29].revenueCents).toBeGreaterThanOrEqual(123);
  });

  test('A range of exactly 366 days is accepted', async () => {
    const res = await sales('2024-01-01', '2024-12-31');

    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(366);
  });

  test.each([
    ['from after to', 'from=2024-03-02&to=2024-03-01'],
    ['a range over 366 days', 'from=2023-01-01&to=2024-01-02'],
    ['an impossible date', 'from=2024-02-30&to=2024-03-01'],
    ['a date in another format', 'from=01/03/2024&to=2024-03-01'],
    ['a word for a date', 'to=yesterday'],
    ['a timestamp for a date', 'from=2024-03-01T00:00:00Z&to=2024-03-02'],
  ])('When the sales query has %s, then 400 VALIDATION.FAILED', async (_why, query) => {
    const res = await api.get(`/api/analytics/sales?${query}`, token);

    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('VALIDATION.FAILED');
    expect(res.body.errors.length).toBeGreaterThan(0);
  });
});

describe('analytics: top products', () => {
  test('When products sell, then they rank by quantity with their revenue and newest name', async () => {
    const [widget, gadget, gizmo] = [uuidv7(), uuidv7(), uuidv7()];
    await deliver(
      product(widget, 'Widget', 1, 'product.created'),
      product(gadget, 'Gadget', 1, 'product.created'),
      // gizmo's events arrive newest first: the rename (sequence 3) before the creation (sequence 1).
      product(gizmo, 'Gizmo Pro', 3, 'product.updated'),
      product(gizmo, 'Gizmo', 1, 'product.created'),
      order([{ productId: widget, quantity: 5, priceCents: 200 }, { productId: gadget, quantity: 1, priceCents: 5000 }], '2024-08-01T10:00:00Z').confirmed(),
      order([{ productId: gadget, quantity: 2, priceCents: 5000 }, { productId: gizmo, quantity: 9, priceCents: 10 }], '2024-08-02T10:00:00Z').confirmed(),
      // The same product twice in one order is one line.
      order([{ productId: widget, quantity: 1, priceCents: 200 }, { productId: widget, quantity: 2, priceCents: 200 }], '2024-08-03T10:00:00Z').confirmed(),
    );

    const top = await topFor([widget, gadget, gizmo]);

    expect(top).toEqual([
      { productId: gizmo, name: 'Gizmo Pro', quantity: 9, revenueCents: 90 },
      { productId: widget, name: 'Widget', quantity: 8, revenueCents: 1600 },
      { productId: gadget, name: 'Gadget', quantity: 3, revenueCents: 15000 },
    ]);
  });

  test('When product events arrive after the orders, then the names appear', async () => {
    const late = uuidv7();
    await deliver(order([{ productId: late, quantity: 1, priceCents: 100 }], '2024-09-01T10:00:00Z').confirmed());
    expect(await topFor([late])).toEqual([{ productId: late, name: null, quantity: 1, revenueCents: 100 }]);

    await deliver(product(late, 'Late Lamp', 1, 'product.created'), product(late, 'Late Lamp v2', 2, 'product.updated'));

    expect(await topFor([late])).toEqual([{ productId: late, name: 'Late Lamp v2', quantity: 1, revenueCents: 100 }]);
  });

  test('The limit defaults to 10 and caps the list', async () => {
    const ids = Array.from({ length: 12 }, () => uuidv7());
    await deliver(order(ids.map((productId) => ({ productId, quantity: 100, priceCents: 1 })), '2024-10-01T10:00:00Z').confirmed());

    const byDefault = await api.get('/api/analytics/top-products', token);
    const three = await api.get('/api/analytics/top-products?limit=3', token);

    expect(byDefault.status).toBe(200);
    expect(byDefault.body.items).toHaveLength(10);
    expect(three.body.items).toHaveLength(3);
    expect(three.body.items[0]).toEqual({ productId: expect.any(String), name: null, quantity: 100, revenueCents: 100 });
  });

  test.each([['limit=0'], ['limit=51'], ['limit=-1'], ['limit=2.5'], ['limit=many']])(
    'When top-products gets %s, then 400 VALIDATION.FAILED',
    async (query) => {
      const res = await api.get(`/api/analytics/top-products?${query}`, token);

      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION.FAILED');
    },
  );
});

describe('analytics: authentication', () => {
  test.each([['/api/analytics/sales'], ['/api/analytics/top-products']])('%s without a token, or with a bad one, answers 401', async (path) => {
    const none = await api.get(path);
    const bad = await api.get(path, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');

    for (const res of [none, bad]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('AUTH.UNAUTHORIZED');
    }
  });

  test.each([['/api/analytics/sales'], ['/api/analytics/top-products']])('%s with a valid customer token answers 403 AUTH.FORBIDDEN', async (path) => {
    const res = await api.get(path, customerToken);

    expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'AUTH.FORBIDDEN' });
  });
});
