import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import net from 'node:net';
import { SPAN_NAME_BYTES, type CaughtSpan } from '../src/dev/otlp-spans';
import { startTraceCatcherIfFree, type TraceCatcher } from '../src/dev/trace-catcher';
import { MAX_STORED_BYTES, spanBytes } from '../src/dev/trace-store';

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
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
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

/** One request exactly as written (no client tidies the path or the Host), answered or not. */
function raw(endpoint: string, request: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.end(request));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0), text: answer.split('\r\n\r\n').slice(1).join('\r\n\r\n') }));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(request.slice(0, 60))}`)));
  });
}
const post = (endpoint: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));
const exportOf = (service: string, spans: object[]) => ({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans }] }] });
const hex = (n: number, seed: number) => seed.toString(16).padStart(n, '0');
const spanOf = (traceId: string, i: number, extra: object = {}) => ({ traceId, spanId: hex(16, i + 1), name: `span ${i}`, kind: 1, startTimeUnixNano: String(1e15 + i), endTimeUnixNano: String(1e15 + i + 1000), ...extra });

describe('The trace catcher of npm start, fed what no exporter sends', () => {
  let own: TraceCatcher;
  beforeEach(async () => {
    own = (await startTraceCatcherIfFree({ host: '127.0.0.1', port: 0, log: () => undefined }))!;
  });
  afterEach(() => own.close());
  const stillAnswers = async () => expect((await fetch(`${own.endpoint}/`)).status).toBe(200);

  test('When a request has a bad target (//, /%, absolute-form, *) or a method the path does not serve, then it gets a 4xx and the catcher keeps answering', async () => {
    const answers: Record<string, number> = {};
    for (const [label, line] of [
      ['GET //', 'GET // HTTP/1.1'],
      ['GET /%', 'GET /% HTTP/1.1'],
      ['GET /traces/%zz', 'GET /traces/%zz HTTP/1.1'],
      ['GET /traces/not-hex', 'GET /traces/not-hex HTTP/1.1'],
      ['GET absolute-form', 'GET http://127.0.0.1/ HTTP/1.1'],
      ['OPTIONS *', 'OPTIONS * HTTP/1.1'],
      ['DELETE /', 'DELETE / HTTP/1.1'],
      ['GET /v1/traces', 'GET /v1/traces HTTP/1.1'],
      ['PUT /v1/traces', 'PUT /v1/traces HTTP/1.1'],
    ]) {
      answers[label] = (await raw(own.endpoint, `${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)).status;
    }

    expect(answers).toEqual({
      'GET //': 404,
      'GET /%': 404,
      'GET /traces/%zz': 400,
      'GET /traces/not-hex': 400,
      'GET absolute-form': 400,
      'OPTIONS *': 400,
      'DELETE /': 405,
      'GET /v1/traces': 405,
      'PUT /v1/traces': 405,
    });
    await stillAnswers();
  });

  test('When a request names another Host (a page that rebound its name to 127.0.0.1) or none, then it is refused with 421; loopback names on any port are served', async () => {
    const statusFor = async (host: string | undefined) =>
      (await raw(own.endpoint, `GET / HTTP/1.${host === undefined ? 0 : 1}\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`)).status;

    expect(await statusFor('evil.example')).toBe(421);
    expect(await statusFor('evil.example:4318')).toBe(421);
    expect(await statusFor('127.0.0.1.evil.example')).toBe(421);
    expect(await statusFor(undefined)).toBe(421);
    expect(await statusFor('127.0.0.1')).toBe(200);
    expect(await statusFor('localhost:4318')).toBe(200);
    expect(await statusFor('[::1]:9')).toBe(200);
    // Nor can such a page write spans.
    const body = JSON.stringify(exportOf('page', [spanOf('aa'.repeat(16), 1)]));
    const written = await raw(own.endpoint, `POST /v1/traces HTTP/1.1\r\nHost: evil.example:4318\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    expect(written.status).toBe(421);
    expect((await get2(own, `/traces/${'aa'.repeat(16)}`)).status).toBe(404);
  });

  test('When export bodies are garbage (not JSON, JSON of the wrong shape, fields of the wrong types, ids too long), then each gets 400 or a partial success, and the spans that are valid are kept', async () => {
    const traceId = 'bb'.repeat(16);
    const statuses = [];
    for (const body of [Buffer.from([0xff, 0x00, 0x7b]), '', 'null', '[]', '"spans"', '{"resourceSpans": 5}', '{"resourceSpans": "abc"}', '{"resourceSpans": [null, 1, {"scopeSpans": {"spans": 1}}]}']) {
      statuses.push((await post(own.endpoint, body)).status);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 200, 200, 200]);

    const mixed = exportOf('mixed', [
      { ...spanOf(traceId, 1), attributes: 'not a list', kind: 'server', status: 'bad' },
      spanOf(traceId, 2, { name: { toString: 'x' }, parentSpanId: '' }),
      spanOf('cc'.repeat(16), 3, { traceId: 'x'.repeat(100_000) }),
      spanOf(traceId, 4, { spanId: 12345 }),
      spanOf(traceId, 5, { parentSpanId: 'zz' }),
      spanOf(traceId, 6, { startTimeUnixNano: 'soon' }),
      spanOf(traceId, 7, { endTimeUnixNano: 1.5 }),
      spanOf(traceId, 8, { startTimeUnixNano: '9'.repeat(400) }),
    ]);
    const answer = await post(own.endpoint, JSON.stringify(mixed));

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ partialSuccess: { rejectedSpans: 6, errorMessage: expect.stringContaining('traceId') } });
    const kept = JSON.parse((await get2(own, `/traces/${traceId}?format=json`)).text) as Array<{ name: string; kind: number; status: number }>;
    expect(kept.map((s) => [s.name, s.kind, s.status])).toEqual([
      ['span 1', 1, 0],
      ['', 1, 0],
    ]);
    await stillAnswers();
  });

  test('When a span name is oversized, then it is kept cut to 256 bytes of UTF-8; when a whole export is over 16 MiB, then it is refused with 413', async () => {
    const traceId = 'dd'.repeat(16);
    const huge = `${'é'.repeat(127)}${'x'.repeat(100_000)}`;
    expect((await post(own.endpoint, JSON.stringify(exportOf('s'.repeat(10_000), [spanOf(traceId, 1, { name: huge })])))).status).toBe(200);

    const [span] = JSON.parse((await get2(own, `/traces/${traceId}?format=json`)).text) as Array<{ name: string; service: string }>;
    expect(Buffer.byteLength(span.name)).toBeLessThanOrEqual(SPAN_NAME_BYTES);
    // 126 é are 252 bytes; the 127th would not leave room for the ellipsis (3 bytes).
    expect(span.name).toBe(`${'é'.repeat(126)}…`);
    expect(Buffer.byteLength(span.service)).toBeLessThanOrEqual(128);

    const tooBig = await post(own.endpoint, Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
    expect(tooBig.status).toBe(413);
    await stillAnswers();
  });

  test('When more spans arrive than the byte bound holds, then the oldest traces go first and what is kept stays under it; a trace thousands of spans deep still draws', async () => {
    // Nine traces of 5,000 spans with 256-byte names: under every count bound (500 traces,
    // 100,000 spans), over the byte bound.
    const name = 'n'.repeat(SPAN_NAME_BYTES);
    const perTrace = 5_000;
    const traceIds = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => hex(32, 0xeeee0000 + t));
    for (const traceId of traceIds) {
      // Each span the child of the one before: a chain 5,000 deep.
      const spans = Array.from({ length: perTrace }, (_, i) => spanOf(traceId, i, { name, parentSpanId: i ? hex(16, i) : '' }));
      expect((await post(own.endpoint, JSON.stringify(exportOf('deep', spans)))).status).toBe(200);
    }

    const bytesPerTrace = perTrace * spanBytes({ name, service: 'deep' } as CaughtSpan);
    const fits = Math.floor(MAX_STORED_BYTES / bytesPerTrace);
    expect(fits).toBeLessThan(traceIds.length);
    const listing = (await get2(own, '/')).text;
    expect(listing).toContain(`The last ${fits} of ${fits} traces caught`);
    for (const [i, traceId] of traceIds.entries()) expect((await get2(own, `/traces/${traceId}`)).status).toBe(i < traceIds.length - fits ? 404 : 200);

    const deep = await get2(own, `/traces/${traceIds.at(-1)}?all`);
    expect(deep.text).toContain(`${perTrace} spans from 1 services`);
    // Indentation stops growing at 40 levels: the page stays about a line a span.
    expect(deep.text.length).toBeLessThan(perTrace * (SPAN_NAME_BYTES + 150));
  }, 60_000);
});

const get2 = async (c: TraceCatcher, path: string) => {
  const res = await fetch(`${c.endpoint}${path}`);
  return { status: res.status, text: await res.text() };
};
