import { randomUUID } from 'node:crypto';
import { staticRoutes } from '@banyan/routing-client';
import { loadMonolithConfig } from '../../../monolith/src/config';
import { startMonolith } from '../../../monolith/test/support/harness';
import { loadPaymentsServiceConfig } from '../src/config';
import { observedProcessor, startPaymentsService, type PaymentsServiceHarness } from './support';
import { tokenIssuer } from './tokens';

/**
 * The payments service's internal API (charges, refunds, cancellations) takes the door's own
 * credential, PAYMENTS_SERVICE_TOKEN, and never the admin token: a hostile review found the
 * admin token doubling as the caller credential, so whoever held the admin API's token could
 * refund any order. Each process reads the environment `npm start` gives every process (both
 * tokens) and builds from it as its main does.
 */
const ADMIN_TOKEN = 'the-admin-api-token-0123456789';
const DOOR_TOKEN = 'the-payments-door-credential-0123456789';
const SESSION_ENV = { BANYAN_ADMIN_TOKEN: ADMIN_TOKEN, PAYMENTS_SERVICE_TOKEN: DOOR_TOKEN };
const GOOD = '4242 4242 4242 4242';

let svc: PaymentsServiceHarness;
const card = observedProcessor();

beforeAll(async () => {
  const config = loadPaymentsServiceConfig(SESSION_ENV);
  // As main.ts: the caller credential is PAYMENTS_SERVICE_TOKEN and nothing else.
  svc = await startPaymentsService('pay_caller', { verifier: (await tokenIssuer()).verifier, cardProcessor: card.processor, callerToken: config.PAYMENTS_SERVICE_TOKEN });
});
afterAll(() => svc.close());
beforeEach(() => Object.assign(card.state, { down: false, delayMs: 0, charges: 0 }));

const charge = (orderId: string, token: string) => svc.api.post('/api/payments/charges', { orderId, userId: randomUUID(), amountCents: 900, card: { number: GOOD } }, token);
const paymentOf = (orderId: string) => svc.db.knex('payments.payments').where({ order_id: orderId }).first();

describe("The payments service's caller credential", () => {
  test('When the admin token is presented at charges, refunds or cancellations, then 401 and nothing is charged or refunded', async () => {
    const charged = randomUUID();
    expect((await charge(charged, DOOR_TOKEN)).status).toBe(200);

    const orderId = randomUUID();
    const asAdmin = await charge(orderId, ADMIN_TOKEN);
    const refund = await svc.api.post('/api/payments/refunds', { orderId: charged }, ADMIN_TOKEN);
    const cancel = await svc.api.post('/api/payments/cancellations', { orderId: charged }, ADMIN_TOKEN);

    expect([asAdmin.status, refund.status, cancel.status]).toEqual([401, 401, 401]);
    expect(asAdmin.body.code).toBe('AUTH.UNAUTHORIZED');
    expect(card.state.charges).toBe(1);
    expect(await paymentOf(orderId)).toBeUndefined();
    expect((await paymentOf(charged)).status).toBe('captured');
  });

  test('When the door presents its own credential, then the charge and the refund are done', async () => {
    const orderId = randomUUID();
    const charged = await charge(orderId, DOOR_TOKEN);
    const refunded = await svc.api.post('/api/payments/refunds', { orderId }, DOOR_TOKEN);

    expect([charged.status, charged.body.status]).toEqual([200, 'captured']);
    expect(refunded.status).toBe(200);
    expect((await paymentOf(orderId)).status).toBe('refunded');
  });

  test('When PAYMENTS_SERVICE_TOKEN is missing or is the admin token, then the service and the monolith refuse to start, naming it', () => {
    expect(() => loadPaymentsServiceConfig({ BANYAN_ADMIN_TOKEN: ADMIN_TOKEN })).toThrow(/PAYMENTS_SERVICE_TOKEN: is required/);
    expect(() => loadPaymentsServiceConfig({ BANYAN_ADMIN_TOKEN: ADMIN_TOKEN, PAYMENTS_SERVICE_TOKEN: ADMIN_TOKEN })).toThrow(/PAYMENTS_SERVICE_TOKEN: must not be BANYAN_ADMIN_TOKEN/);
    expect(() => loadMonolithConfig({ BANYAN_ADMIN_TOKEN: ADMIN_TOKEN, PAYMENTS_SERVICE_TOKEN: ADMIN_TOKEN })).toThrow(/PAYMENTS_SERVICE_TOKEN: must not be BANYAN_ADMIN_TOKEN/);
    expect(loadMonolithConfig(SESSION_ENV).PAYMENTS_SERVICE_TOKEN).toBe(DOOR_TOKEN);
  });

  test("When the monolith has only the admin token (what the door used to fall back to), then checkout through its door is 503 and the card is never charged", async () => {
    // A service that would still accept the admin token, as the old fallback had it: the door
    // must not send it, so nothing can be charged with it.
    const old = await startPaymentsService('pay_caller_old', { verifier: (await tokenIssuer()).verifier, cardProcessor: card.processor, callerToken: ADMIN_TOKEN });
    const mono = await startMonolith('pay_caller_mono', {
      routing: staticRoutes({ payments: 'extracted' }),
      cardProcessor: card.processor,
      env: { BANYAN_ADMIN_TOKEN: ADMIN_TOKEN, PAYMENTS_SERVICE_URL: old.served.url },
    });
    try {
      const admin = (await mono.admin()).token;
      const item = (await mono.api.post('/api/products', { sku: `SKU-${randomUUID()}`, name: 'Thing', priceCents: 100, stock: 1 }, admin)).body;
      const buyer = await mono.signUp();

      const res = await mono.api.post('/api/orders', { items: [{ productId: item.id, quantity: 1 }], card: { number: GOOD } }, buyer.token);

      expect(res.status).toBe(503);
      expect(card.state.charges).toBe(0);
      expect(await old.db.knex('payments.payments').count({ n: '*' }).first()).toEqual({ n: '0' });
    } finally {
      await mono.close();
      await old.close();
    }
  });
});
