import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createLogger, startTelemetry, withSpan, type Telemetry } from '../src';

/**
 * Jest gives modules a stand-in for 'module', so the instrumentations' require hook would patch
 * the stand-in and never see `http` being loaded; a real process (and the preload test) has no
 * such layer. Handing them Node's own 'module' makes this test observe what production does.
 */
jest.mock('module', () => (process as NodeJS.Process & { getBuiltinModule(id: string): unknown }).getBuiltinModule('module'));

/**
 * In-process: the SDK starts first, then http and express are required inside the tests, the
 * order a preload guarantees in a real process (the instrumentations patch modules as they load).
 */
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

beforeAll(() => {
  // Banyan samples 10 % of new traces by default (ADR 0402); these tests look at every span.
  process.env.OTEL_TRACES_SAMPLER = 'always_on';
  telemetry = startTelemetry({ serviceName: 'telemetry-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
});
afterAll(() => telemetry.shutdown());
beforeEach(() => exporter.reset());

function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger('telemetry-test', 'info', stream) };
}

async function serve(build: (app: import('express').Express) => void) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express') as typeof import('express');
  const app = express();
  build(app);
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

test('a business span inside an express request is a child of the http server span, and the log line carries its trace id', async () => {
  const { lines, logger } = captureLogs();
  const server = await serve((app) =>
    app.post('/orders/:id/confirm', async (req, res) => {
      await withSpan('order.confirm', { 'order.id': req.params.id, 'items.count': 2 }, async () => {
        logger.info({ orderId: req.params.id }, 'confirming');
      });
      res.json({ ok: true });
    }),
  );
  try {
    const res = await fetch(`${server.url}/orders/o-1/confirm`, { method: 'POST' });
    expect(res.status).toBe(200);
  } finally {
    await server.close();
  }

  const spans = exporter.getFinishedSpans();
  const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER);
  const business = spans.find((s) => s.name === 'order.confirm');
  expect(serverSpan).toBeDefined();
  expect(business).toBeDefined();
  expect(business!.parentSpanContext?.spanId).toBe(serverSpan!.spanContext().spanId);
  expect(business!.spanContext().traceId).toBe(serverSpan!.spanContext().traceId);
  expect(business!.attributes).toMatchObject({ 'order.id': 'o-1', 'items.count': 2 });
  expect(serverSpan!.resource.attributes['service.name']).toBe('telemetry-test');

  const line = lines.find((l) => l.msg === 'confirming');
  expect(line).toMatchObject({ trace_id: business!.spanContext().traceId, span_id: business!.spanContext().spanId });
});

test('an incoming traceparent is continued: the server span joins the caller\'s trace (parent-based)', async () => {
  const server = await serve((app) => app.get('/ping', (_req, res) => void res.send('pong')));
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  try {
    await fetch(`${server.url}/ping`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
  } finally {
    await server.close();
  }
  const serverSpan = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
  expect(serverSpan?.spanContext().traceId).toBe(traceId);
  expect(serverSpan?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
});

test('withSpan records a thrown error with status ERROR and rethrows it unchanged', async () => {
  const failure = new Error('card declined');
  await expect(withSpan('payment.capture', { 'order.id': 'o-2' }, () => Promise.reject(failure))).rejects.toBe(failure);

  const [span] = exporter.getFinishedSpans();
  expect(span.name).toBe('payment.capture');
  expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'card declined' });
  expect(span.events.map((e) => e.name)).toContain('exception');
  expect(span.events[0].attributes?.['exception.message']).toBe('card declined');
});

test('health probes and metric scrapes produce no spans', async () => {
  const server = await serve((app) => {
    app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
    app.get('/metrics', (_req, res) => void res.send(''));
  });
  try {
    await fetch(`${server.url}/healthz`);
    await fetch(`${server.url}/metrics`);
  } finally {
    await server.close();
  }
  expect(exporter.getFinishedSpans()).toEqual([]);
});

describe('fetch (undici) between two servers: one trace', () => {
  test('When a handler calls another server with fetch, then the callee\'s server span is a child of the caller\'s fetch client span, in the caller\'s trace', async () => {
    const callee = await serve((app) => app.post('/api/payments/charges', (_req, res) => void res.json({ status: 'captured' })));
    const caller = await serve((app) =>
      app.post('/api/orders', async (_req, res) => {
        await withSpan('order.place', { 'order.id': 'o-3' }, async () => {
          const charged = await fetch(`${callee.url}/api/payments/charges`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
          res.status(201).json(await charged.json());
        });
      }),
    );
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    try {
      const res = await fetch(`${caller.url}/api/orders`, { method: 'POST', headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
      expect(res.status).toBe(201);
    } finally {
      await Promise.all([caller.close(), callee.close()]);
    }

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const ancestors = (span: (typeof spans)[number]) => {
      const chain = [];
      for (let at = byId.get(span.parentSpanContext?.spanId ?? ''); at; at = byId.get(at.parentSpanContext?.spanId ?? '')) chain.push(at);
      return chain;
    };
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    const callerServer = servers.find((s) => s.attributes['http.route'] === '/api/orders' || s.attributes['http.target'] === '/api/orders' || s.attributes['url.path'] === '/api/orders');
    const calleeServer = servers.find((s) => s !== callerServer);
    const client = spans.find((s) => s.kind === SpanKind.CLIENT && s.instrumentationScope.name === '@opentelemetry/instrumentation-undici');
    expect(callerServer).toBeDefined();
    expect(calleeServer).toBeDefined();
    expect(client).toBeDefined();

    // The test's own fetch had no active span: it got no client span (the caller's server span
    // is the one its traceparent asked for).
    expect(spans.filter((s) => s.kind === SpanKind.CLIENT)).toEqual([client]);
    expect(callerServer!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(client!.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.path': '/api/payments/charges', 'http.response.status_code': 200 });
    expect(ancestors(client!).map((s) => s.name)).toEqual(expect.arrayContaining(['order.place', callerServer!.name]));
    expect(calleeServer!.parentSpanContext?.spanId).toBe(client!.spanContext().spanId);
    for (const span of [callerServer!, client!, calleeServer!]) expect(span.spanContext().traceId).toBe(traceId);
  });

  test('A fetch outside any span (a background poll) makes no span and sends no traceparent', async () => {
    let seen: string | string[] | undefined = 'unset';
    const server = await serve((app) => app.get('/routes', (req, res) => void ((seen = req.headers.traceparent), res.json({ routes: [] }))));
    try {
      expect((await fetch(`${server.url}/routes`)).status).toBe(200);
    } finally {
      await server.close();
    }
    expect(seen).toBeUndefined();
    // The callee's http instrumentation starts a root server span of its own; nothing else exists.
    expect(exporter.getFinishedSpans().map((s) => s.kind)).toEqual([SpanKind.SERVER]);
  });
});
