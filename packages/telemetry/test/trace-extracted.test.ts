import { randomBytes } from 'node:crypto';
import { backfill, loadSyncSpec } from '@banyan/sync';
import type { ReceivedSpan } from './otlp-receiver';
import { call, traceOf } from './support/calls';
import { startSystem, type System } from './support/system';

/**
 * The extracted side of the trace: the compiled gateway, monolith, relay and products service as
 * real child processes with the `-r @banyan/telemetry/register` preload, products copied to the
 * service and switched to `extracted` through the gateway's admin API. Two edges that only exist
 * once a domain has left the monolith are followed across processes in the caller's trace:
 * gateway → service (a read routed to the extracted side) and monolith → service (checkout
 * reserving stock at the service over fetch while products is extracted, ADR 0302).
 */
const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const KIND_NAME = Object.fromEntries(Object.entries(SPAN_KIND).map(([name, kind]) => [kind, name]));
const GOOD_CARD = '4242424242424242';
const SERVICE = 'banyan-products-service';

let system: System;
const caller = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });
const traceparent = (c: { traceId: string; spanId: string }) => `00-${c.traceId}-${c.spanId}-01`;
const flow = {} as { productId: string; customerToken: string };

/** One line per span, so a failed assertion shows the whole trace it looked at. */
const listed = (trace: ReceivedSpan[]) =>
  trace.length ? trace.map((s) => `  ${s.service} ${KIND_NAME[s.kind] ?? s.kind} "${s.name}" ${s.spanId} ← ${s.parentSpanId ?? '(root)'}`).join('\n') : '  (no spans)';

function one(trace: ReceivedSpan[], predicate: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = trace.filter(predicate);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}; the trace's spans:\n${listed(trace)}`);
  return found[0];
}

/** Is `ancestor` on `span`'s parent chain (inside the trace)? */
function descends(trace: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  for (let at = byId.get(span.parentSpanId ?? ''); at; at = byId.get(at.parentSpanId ?? '')) if (at === ancestor) return true;
  return false;
}

const isGatewayHop = (parentSpanId: string) => (s: ReceivedSpan) => s.service === 'banyan-gateway' && s.kind === SPAN_KIND.SERVER && s.parentSpanId === parentSpanId;
const isReservationServer = (s: ReceivedSpan) => s.service === SERVICE && s.kind === SPAN_KIND.SERVER && s.attributes['http.route'] === '/api/products/reservations';

/** Resolves once the monolith acts on products' new route: its routing view logs 'route followed'. */
async function monolithFollowsSwitch(mode: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!system.lines('monolith').some((l) => l.msg === 'route followed' && l.domain === 'products' && l.mode === mode)) {
    if (Date.now() > deadline) throw new Error(`the monolith did not follow products to ${mode} within ${timeoutMs} ms (it polls the gateway's GET /routes once a second)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  system = await startSystem('trext', { productsService: true });
  await system.boot();
  const api = system.urls.gateway;

  const products = await call('GET', `${api}/api/products?limit=1`);
  expect(products.status).toBe(200);
  flow.productId = products.body.items[0].id;

  // What `banyan backfill products` does: the monolith's catalog into the service's database
  // (migrated by the service at its start). The two sides' sync consumers keep it current after.
  await backfill(loadSyncSpec('products'), { source: system.monolithDb.knex, target: system.productsDb!.knex });

  const switched = await call('PUT', `${system.urls.admin}/routes/products`, { mode: 'extracted' }, { authorization: `Bearer ${system.secrets.adminToken}` });
  expect(switched.status).toBe(200);
  expect(switched.body.route).toMatchObject({ domain: 'products', mode: 'extracted' });
  await monolithFollowsSwitch('extracted');

  const email = `buyer-${randomBytes(4).toString('hex')}@example.com`;
  const password = `Pw-${randomBytes(8).toString('hex')}`;
  expect((await call('POST', `${api}/api/users`, { email, password, name: 'Extracted Buyer' })).status).toBe(201);
  flow.customerToken = (await call('POST', `${api}/api/users/login`, { email, password })).body.token;
}, 90_000);

afterAll(async () => {
  await system?.close();
}, 30_000);

describe('products switched to its extracted service: the trace crosses into it', () => {
  test('When a caller reads a product through the gateway, then the products service\'s server span is the direct child of the gateway\'s, which records side and mode `extracted`', async () => {
    // Arrange
    const read = caller();

    // Act
    const res = await call('GET', `${system.urls.gateway}/api/products/${flow.productId}`, undefined, { traceparent: traceparent(read) });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(flow.productId);
    const trace = await traceOf(system.receiver, read.traceId, (spans) => spans.some(isGatewayHop(read.spanId)) && spans.some((s) => s.service === SERVICE && s.kind === SPAN_KIND.SERVER));
    const gateway = one(trace, isGatewayHop(read.spanId), 'gateway server span, child of the caller');
    expect(gateway.attributes).toMatchObject({ 'banyan.route.side': 'extracted', 'banyan.route.mode': 'extracted', 'http.response.status_code': 200 });
    const service = one(trace, (s) => s.service === SERVICE && s.kind === SPAN_KIND.SERVER, `${SERVICE} server span`);
    if (service.parentSpanId !== gateway.spanId) throw new Error(`the service's server span is not the gateway's child; the trace's spans:\n${listed(trace)}`);
    expect(service.attributes).toMatchObject({ 'http.route': '/api/products/:id', 'http.response.status_code': 200 });
    // The monolith took no part: wait past two export intervals (200 ms each) before saying so.
    await new Promise((r) => setTimeout(r, 500));
    expect(system.receiver.spans.some((s) => s.traceId === read.traceId && s.service === 'banyan-monolith')).toBe(false);
  });

  test('When a customer places an order, then order.place reserves stock at the service: a fetch CLIENT span under order.place, the service\'s POST /api/products/reservations server span its child', async () => {
    // Arrange
    const checkout = caller();

    // Act
    const order = await call(
      'POST',
      `${system.urls.gateway}/api/orders`,
      { items: [{ productId: flow.productId, quantity: 1 }], card: { number: GOOD_CARD } },
      { authorization: `Bearer ${flow.customerToken}`, traceparent: traceparent(checkout) },
    );

    // Assert
    expect(order.status).toBe(201);
    const reservationUrl = `${system.urls.products}/api/products/reservations`;
    const isReservationClient = (s: ReceivedSpan) => s.service === 'banyan-monolith' && s.kind === SPAN_KIND.CLIENT && s.attributes['url.full'] === reservationUrl;
    const trace = await traceOf(system.receiver, checkout.traceId, (spans) =>
      [isGatewayHop(checkout.spanId), (s: ReceivedSpan) => s.name === 'order.place', isReservationClient, isReservationServer].every((p) => spans.some(p)),
    );

    // Orders stays in the monolith: the gateway's hop says so.
    const gateway = one(trace, isGatewayHop(checkout.spanId), 'gateway server span, child of the caller');
    expect(gateway.attributes).toMatchObject({ 'banyan.route.side': 'monolith', 'banyan.route.mode': 'monolith', 'http.response.status_code': 201 });
    const place = one(trace, (s) => s.service === 'banyan-monolith' && s.name === 'order.place', 'order.place span');
    expect(place.attributes).toMatchObject({ 'order.id': order.body.id, 'order.status': 'confirmed' });
    if (!descends(trace, place, gateway)) throw new Error(`order.place is not under the gateway's hop; the trace's spans:\n${listed(trace)}`);

    const client = one(trace, isReservationClient, `monolith CLIENT span of POST ${reservationUrl}`);
    expect(client.scope).toBe('@opentelemetry/instrumentation-undici');
    expect(client.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200 });
    if (!descends(trace, client, place)) throw new Error(`the reservation call is not under order.place; the trace's spans:\n${listed(trace)}`);

    const service = one(trace, isReservationServer, `${SERVICE} server span of POST /api/products/reservations`);
    if (service.parentSpanId !== client.spanId) throw new Error(`the service's reservation span is not the fetch span's child; the trace's spans:\n${listed(trace)}`);
    expect(service.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200 });
  });
});
