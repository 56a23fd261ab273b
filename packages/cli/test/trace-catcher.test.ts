import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTraceCatcherIfFree, type TraceCatcher } from '../src/dev/trace-catcher';

/**
 * `npm start`'s trace catcher, fed what the processes' OTLP/HTTP exporter sends: two "processes"
 * (two tracer providers with their own service names) write one trace, their spans are serialised
 * by the exporter's own JSON serialiser (the exporter's lazy-loaded transport cannot run under
 * jest's VM) and posted, and the catcher shows them as one tree.
 */
let catcher: TraceCatcher;
beforeAll(async () => {
  catcher = (await startTraceCatcherIfFree({ host: '127.0.0.1', port: 0 }))!;
});
afterAll(() => catcher?.close());

const providerFor = (service: string) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  /** What the OTLP/HTTP exporter would send for the finished spans. */
  const send = async () => {
    const res = await fetch(`${catcher.endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JsonTraceSerializer.serializeRequest(exporter.getFinishedSpans())!),
    });
    expect(res.status).toBe(200);
  };
  return Object.assign(provider, { send });
};
const under = (parent: Span) => trace.setSpan(context.active(), parent);
const get = async (path: string) => {
  const res = await fetch(`${catcher.endpoint}${path}`);
  return { status: res.status, text: await res.text() };
};

describe('The trace catcher of npm start', () => {
  test('When two processes export spans of one trace, then /traces/<id> shows them as one tree, children in start order, express internals left out and database spans counted on their caller', async () => {
    const gateway = providerFor('banyan-gateway');
    const monolith = providerFor('banyan-monolith');
    const g = gateway.getTracer('t');
    const m = monolith.getTracer('t');

    // Arrange: the gateway's hop, the monolith's request under it, a use case with two queries
    // and a failed call to a service.
    const hop = g.startSpan('POST /api/orders', { kind: SpanKind.SERVER });
    const request = m.startSpan('POST /api/orders', { kind: SpanKind.SERVER }, under(hop));
    m.startSpan('middleware - jsonParser', { attributes: { 'express.type': 'middleware' } }, under(request)).end();
    const handler = m.startSpan('request handler', { attributes: { 'express.type': 'request_handler' } }, under(request));
    const useCase = m.startSpan('order.place', {}, under(handler));
    for (const sql of ['insert', 'update']) m.startSpan(`pg.query:${sql}`, { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }, under(useCase)).end();
    const call = m.startSpan('POST', { kind: SpanKind.CLIENT }, under(useCase));
    call.setStatus({ code: SpanStatusCode.ERROR });
    call.end();
    useCase.end();
    handler.end();
    request.end();
    hop.end();
    await gateway.send();
    await monolith.send();

    // Act
    const shown = await get(`/traces/${hop.spanContext().traceId}`);

    // Assert
    expect(shown.status).toBe(200);
    const lines = shown.text.trimEnd().split('\n').map((l) => l.replace(/\d+\.\d ms/, 'N ms'));
    expect(lines).toEqual([
      'banyan-gateway   POST /api/orders [server]  N ms',
      'banyan-monolith    POST /api/orders [server]  N ms',
      'banyan-monolith      order.place  N ms  (+2 db)',
      'banyan-monolith        POST [client]  N ms  ERROR',
      `8 spans from 2 services in trace ${hop.spanContext().traceId} (?all shows the middleware and database spans too)`,
    ]);
    // ?all shows express's spans and the queries themselves; the list names the trace by its root.
    const all = (await get(`/traces/${hop.spanContext().traceId}?all`)).text;
    expect(all).toContain('banyan-monolith      request handler  ');
    expect(all).toContain('pg.query:insert [client]');
    expect((await get('/')).text).toContain(`${hop.spanContext().traceId}  banyan-gateway POST /api/orders  (8 spans)`);
    await Promise.all([gateway.shutdown(), monolith.shutdown()]);
  });

  test('When a trace has not arrived, or the request is not OTLP JSON, then the answer says why', async () => {
    const missing = await get('/traces/0af7651916cd43dd8448eb211c80319c');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('No span of trace 0af7651916cd43dd8448eb211c80319c has arrived (yet)');

    const protobuf = await fetch(`${catcher.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([1, 2, 3]) });
    expect(protobuf.status).toBe(415);
    expect(await protobuf.text()).toContain('reads OTLP/HTTP JSON');

    const broken = await fetch(`${catcher.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans": [' });
    expect(broken.status).toBe(400);

    // A web page's request (it carries Origin, and may pass text/plain off as anything).
    const fromPage = await fetch(`${catcher.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' });
    expect(fromPage.status).toBe(403);
    const plain = await fetch(`${catcher.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'text/plain; x=json' }, body: '{}' });
    expect(plain.status).toBe(415);
  });

  test('When an export is malformed (spans that are their own parent, or parents in a cycle), then the tree is still drawn and the catcher answers', async () => {
    const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const span = (spanId: string, parentSpanId: string, db = false) => ({
      traceId,
      spanId,
      parentSpanId,
      name: `span ${spanId.slice(-2)}`,
      kind: 1,
      startTimeUnixNano: '1000000',
      endTimeUnixNano: '2000000',
      attributes: db ? [{ key: 'db.system', value: { stringValue: 'postgresql' } }] : [],
    });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'broken' } }] },
          scopeSpans: [{ spans: [span('00000000000000a1', '00000000000000a1'), span('00000000000000b1', '00000000000000b2', true), span('00000000000000b2', '00000000000000b1', true), span('00000000000000c1', '00000000000000b1')] }],
        },
      ],
    };
    const posted = await fetch(`${catcher.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(posted.status).toBe(200);
    const shown = await get(`/traces/${traceId}`);
    expect(shown.status).toBe(200);
    // The self-parented span is a root; the database spans in a cycle are hidden, and their child
    // hangs from nothing shown: a root too.
    expect(shown.text.split('\n').slice(0, 2)).toEqual(['broken   span a1  1.0 ms', 'broken   span c1  1.0 ms']);
    expect(shown.text).toContain(`4 spans from 1 services in trace ${traceId}`);
    // ?all shows every span, the cycle included, each once.
    const all = (await get(`/traces/${traceId}?all`)).text.split('\n').filter((l) => l.startsWith('broken')).map((l) => l.trim().replace(/\s+/g, ' '));
    expect(all.sort()).toEqual(['broken span a1 1.0 ms', 'broken span b1 1.0 ms', 'broken span b2 1.0 ms', 'broken span c1 1.0 ms']);
  });

  test('When something already listens on the port (a Jaeger), then no catcher starts', async () => {
    const port = Number(new URL(catcher.endpoint).port);
    expect(await startTraceCatcherIfFree({ host: '127.0.0.1', port })).toBeUndefined();
  });
});
