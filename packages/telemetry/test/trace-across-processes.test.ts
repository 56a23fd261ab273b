import { randomBytes } from 'node:crypto';
import type { ReceivedSpan } from './otlp-receiver';
import { call, traceOf } from './support/calls';
import { startSystem, type System } from './support/system';

/**
 * One order, followed across processes: the gateway, the monolith, the relay (all compiled, real
 * child processes with the `-r @banyan/telemetry/register` preload), PostgreSQL, RabbitMQ and a
 * real SMTP server. The spans arrive over OTLP/HTTP at the test's receiver; the test checks that
 * they form one trace with the parent → child edges of every hop, and that no process's log
 * carries a secret that went through it.
 */
const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const STATUS_ERROR = 2;
const GOOD_CARD = '4242424242424242';
const DECLINED_CARD = '4000000000000002';

let system: System;
const clientTraceId = randomBytes(16).toString('hex');
const clientSpanId = randomBytes(8).toString('hex');
const declinedTraceId = randomBytes(16).toString('hex');
const flow = {} as {
  customer: { email: string; password: string; token: string; id: string };
  adminJwt: string;
  orderId: string;
  declinedStatus: number;
};

beforeAll(async () => {
  system = await startSystem('trace');
  await system.boot();
  const api = system.urls.gateway;

  // The admin signs in through the gateway (a password and a JWT travel through two processes)
  // and reads the routing table with the admin token.
  const admin = await call('POST', `${api}/api/users/login`, { email: 'admin@banyan.local', password: system.secrets.adminPassword });
  expect(admin.status).toBe(200);
  flow.adminJwt = admin.body.token;
  expect((await call('GET', `${system.urls.admin}/routes`, undefined, { authorization: `Bearer ${system.secrets.adminToken}` })).status).toBe(200);

  const email = `buyer-${randomBytes(4).toString('hex')}@example.com`;
  const password = `Pw-${randomBytes(8).toString('hex')}`;
  const registered = await call('POST', `${api}/api/users`, { email, password, name: 'Trace Buyer' });
  expect(registered.status).toBe(201);
  const login = await call('POST', `${api}/api/users/login`, { email, password });
  flow.customer = { email, password, token: login.body.token, id: registered.body.id };

  const products = await call('GET', `${api}/api/products?limit=1`);
  const productId = products.body.items[0].id as string;
  const auth = { authorization: `Bearer ${flow.customer.token}` };

  // The caller's own traceparent, so the test knows the trace id and the gateway span's parent.
  const order = await call('POST', `${api}/api/orders`, { items: [{ productId, quantity: 1 }], card: { number: GOOD_CARD } }, { ...auth, traceparent: `00-${clientTraceId}-${clientSpanId}-01` });
  expect(order.status).toBe(201);
  flow.orderId = order.body.id;
  const declined = await call('POST', `${api}/api/orders`, { items: [{ productId, quantity: 1 }], card: { number: DECLINED_CARD } }, { ...auth, traceparent: `00-${declinedTraceId}-${randomBytes(8).toString('hex')}-01` });
  flow.declinedStatus = declined.status;

  await system.smtp.waitFor(1, 30_000);
}, 90_000);

afterAll(async () => {
  await system?.close();
}, 30_000);

describe('one order through gateway → monolith → outbox → relay → RabbitMQ → consumer → email', () => {
  let trace: ReceivedSpan[];
  const one = (predicate: (s: ReceivedSpan) => boolean, what: string) => {
    const found = trace.filter(predicate);
    if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}: ${trace.map((s) => `${s.service}:${s.name}`).join(', ')}`);
    return found[0];
  };
  const byId = () => new Map(trace.map((s) => [s.spanId, s]));
  /** Is `ancestor` on `span`'s parent chain (inside the trace)? */
  const descends = (span: ReceivedSpan, ancestor: ReceivedSpan) => {
    const spans = byId();
    for (let at = spans.get(span.parentSpanId ?? ''); at; at = spans.get(at.parentSpanId ?? '')) if (at === ancestor) return true;
    return false;
  };

  beforeAll(async () => {
    const ns = system.namespace;
    // Each process exports on its own schedule: the relay's publish of notification.sent can reach
    // the receiver before the monolith's batch holding email.send. Wait for every last hop.
    trace = await traceOf(system.receiver, clientTraceId, (spans) =>
      [`${ns}notification.order.created process`, 'email.send', 'notification.sent publish'].every((name) => spans.some((s) => s.name === name)),
    );
  }, 30_000);

  test('the email was sent to the buyer', () => {
    expect(system.smtp.mails.map((m) => m.to)).toContainEqual([flow.customer.email]);
  });

  test('every span of the order carries the caller\'s trace id, from all three processes', () => {
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['banyan-gateway', 'banyan-monolith', 'banyan-relay']));
  });

  test('gateway server span (child of the caller) → monolith server span → order.place with its business attributes', () => {
    const gateway = one((s) => s.service === 'banyan-gateway' && s.kind === SPAN_KIND.SERVER, 'gateway server span');
    expect(gateway.parentSpanId).toBe(clientSpanId);
    expect(gateway.name).toBe('POST /api/orders');
    expect(gateway.attributes).toMatchObject({ 'banyan.route.side': 'monolith', 'banyan.route.mode': 'monolith', 'http.response.status_code': 201 });

    const monolith = one((s) => s.service === 'banyan-monolith' && s.kind === SPAN_KIND.SERVER, 'monolith server span');
    expect(monolith.parentSpanId).toBe(gateway.spanId);
    expect(monolith.attributes['http.route']).toBe('/api/orders');

    const place = one((s) => s.name === 'order.place', 'order.place span');
    expect(descends(place, monolith)).toBe(true);
    expect(place.attributes).toMatchObject({ 'order.id': flow.orderId, 'user.id': flow.customer.id, 'items.count': 1, 'order.status': 'confirmed' });
  });

  test('the outbox insert is a pg span under order.place, and the row stores the traceparent the relay continues', async () => {
    const place = one((s) => s.name === 'order.place', 'order.place span');
    const inserts = trace.filter((s) => s.scope === '@opentelemetry/instrumentation-pg' && /insert into "outbox"\."events"/i.test(String(s.attributes['db.statement'] ?? s.attributes['db.query.text'])));
    expect(inserts.length).toBeGreaterThan(0);
    for (const insert of inserts) expect(descends(insert, place)).toBe(true);

    const row = await system.monolithDb.knex('outbox.events').where({ type: 'order.created', aggregate_id: flow.orderId }).first();
    const [, traceId, parentId] = String(row.traceparent).split('-');
    expect(traceId).toBe(clientTraceId);
    const writer = byId().get(parentId)!;
    expect(writer === place || descends(writer, place)).toBe(true);

    const publish = one((s) => s.name === 'order.created publish', 'relay publish span of order.created');
    expect(publish).toMatchObject({ service: 'banyan-relay', kind: SPAN_KIND.PRODUCER, parentSpanId: parentId });
    expect(publish.attributes).toMatchObject({ 'messaging.system': 'rabbitmq', 'messaging.rabbitmq.destination.routing_key': 'order.created', 'messaging.message.id': row.id });
  });

  test('the notifications consumer continues the message headers: `<queue> process` under the publish, then notification.sent under it', () => {
    const queue = `${system.namespace}notification.order.created`;
    const publish = one((s) => s.name === 'order.created publish', 'relay publish span of order.created');
    const consume = one((s) => s.name === `${queue} process`, 'consumer span');
    expect(consume).toMatchObject({ service: 'banyan-monolith', kind: SPAN_KIND.CONSUMER, parentSpanId: publish.spanId });
    expect(consume.attributes).toMatchObject({ 'messaging.destination.name': queue, 'banyan.inbox.outcome': 'processed' });

    // The email is sent after the inbox transaction commits, still in the consumer's context: its
    // notification.sent event is written and published in the same trace.
    const sent = trace.filter((s) => s.name === 'notification.sent publish');
    expect(sent.length).toBeGreaterThan(0);
    for (const span of sent) expect(descends(span, consume)).toBe(true);
  });

  test('the email send is a client span under the consumer, carrying the order and the Message-ID (not the address)', () => {
    const consume = one((s) => s.name === `${system.namespace}notification.order.created process`, 'consumer span');
    const send = one((s) => s.name === 'email.send', 'email.send span');
    expect(send).toMatchObject({ service: 'banyan-monolith', kind: SPAN_KIND.CLIENT });
    expect(descends(send, consume)).toBe(true);
    expect(send.attributes).toMatchObject({ 'order.id': flow.orderId, 'email.message_id': expect.stringMatching(/^<.+@.+>$/), 'email.attempt': 1 });
    expect(JSON.stringify(send.attributes)).not.toContain(flow.customer.email);
    expect(send.status.code).not.toBe(STATUS_ERROR);
  });

  test('no duplicate messaging spans: the amqplib instrumentation is off (ADR 0403)', () => {
    expect(system.receiver.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-amqplib')).toEqual([]);
  });

  test('a declined card: 402, and order.place records the error with status ERROR in its own trace', async () => {
    expect(flow.declinedStatus).toBe(402);
    const spans = await traceOf(system.receiver, declinedTraceId, (all) => all.some((s) => s.name === 'order.place') && all.some((s) => s.service === 'banyan-gateway'));
    const place = spans.find((s) => s.name === 'order.place')!;
    expect(place.status.code).toBe(STATUS_ERROR);
    expect(place.events).toContain('exception');
    const gateway = spans.find((s) => s.service === 'banyan-gateway')!;
    expect(gateway.attributes['http.response.status_code']).toBe(402);
  });
});

describe('metrics of the same flow, scraped from each process', () => {
  const scrape = async (url: string) => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  test('relay: published per event type, confirm lag, and the outbox it drains (backlog, oldest age, parked) by database', async () => {
    const database = system.monolithDb.settings.database;
    const text = await scrape(system.urls.relay);
    expect(value(text, 'banyan_relay_published_total{event_type="order.created"}')).toBeGreaterThanOrEqual(2);
    expect(value(text, 'banyan_relay_confirm_lag_seconds_count')).toBeGreaterThan(0);
    expect(value(text, `banyan_outbox_up{database="${database}"}`)).toBe(1);
    expect(value(text, `banyan_outbox_parked{database="${database}"}`)).toBe(0);
    expect(value(text, `banyan_outbox_backlog{database="${database}"}`)).toBeGreaterThanOrEqual(0);
    expect(value(text, `banyan_outbox_oldest_unpublished_age_seconds{database="${database}"}`)).toBeGreaterThanOrEqual(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect((await fetch(`${system.urls.relay}/readyz`)).status).toBe(200);
  });

  test('monolith: the consumer queue processed each order\'s order.created once, and the breakers of its remote doors are closed', async () => {
    // Both checkouts (confirmed and declined) created an order.
    const queue = `${system.namespace}notification.order.created`;
    const text = await scrape(system.urls.monolith);
    expect(value(text, `banyan_consumer_processed_total{queue="${queue}",outcome="processed"}`)).toBe(2);
    expect(value(text, `banyan_consumer_process_duration_seconds_count{queue="${queue}",result="ok"}`)).toBe(2);
    expect(text).toMatch(/^banyan_breaker_state\{breaker="[\w-]+"\} 0$/m);
    expect(text).toMatch(/^http_server_request_duration_seconds_count\{method="POST",route="\/api\/orders",status_code="201"\} 1$/m);
  });
});

describe('logs of the same flow', () => {
  beforeAll(() => system.stopProcesses(), 30_000);

  test('every line each process wrote is JSON; lines written while serving or consuming carry trace_id and span_id', () => {
    for (const name of ['gateway', 'monolith', 'relay'] as const) {
      const written = system.processes.filter((p) => p.name === name).flatMap((p) => p.output.split('\n')).filter(Boolean);
      expect(written.length).toBeGreaterThan(0);
      expect(written.filter((l) => !l.startsWith('{'))).toEqual([]);
    }
    const requests = system.lines('monolith').filter((l) => l.msg === 'request completed' && String((l.req as { url?: string })?.url).startsWith('/api/'));
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const line of requests) expect(line).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(requests.map((l) => l.trace_id)).toContain(clientTraceId);
  });

  test('no process logged the admin token, a JWT, a password or a card number that went through it', () => {
    const secrets = {
      'admin token': system.secrets.adminToken,
      'admin password': system.secrets.adminPassword,
      'customer password': flow.customer.password,
      'admin JWT': flow.adminJwt,
      'customer JWT': flow.customer.token,
      'card number': GOOD_CARD,
      'declined card number': DECLINED_CARD,
    };
    const leaks = system.processes.flatMap((p) => Object.entries(secrets).filter(([, value]) => p.output.includes(value)).map(([what]) => `${p.name}: ${what}`));
    expect(leaks).toEqual([]);
    // Any JWT at all, not only the two the test knows (three base64url parts, a JSON header).
    const jwt = /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/;
    expect(system.processes.filter((p) => jwt.test(p.output)).map((p) => p.name)).toEqual([]);
  });
});
