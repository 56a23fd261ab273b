import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTelemetry, withSpan, type Telemetry } from '../src';

/**
 * The instrumentations patch http and express as they load, after the SDK has started: the order
 * a preload guarantees in a real process. Under jest 30 a test file's `require('http')` never
 * reaches their hook (jest's module layer sits in between), so the scenarios that need an
 * instrumented server run in a child process of their own (fixtures/in-process-tracing.js,
 * against the compiled package) and print the finished spans; `withSpan` alone is checked here.
 */
const root = path.resolve(__dirname, '../../..');
const fixture = path.join(__dirname, 'fixtures/in-process-tracing.js');

interface SpanLine {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  scope: string;
  service: string;
}
interface Run {
  spans: SpanLine[];
  lines: Array<Record<string, unknown>>;
  status?: number;
  seen?: string | null;
}

beforeAll(() => {
  // The fixture requires @banyan/telemetry through the package's exports, i.e. its dist.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/telemetry'], { cwd: root, stdio: 'pipe' });
}, 120_000);

function scenario(name: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, name], { cwd: root, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    // 'close', not 'exit': 'exit' can fire before the last of stdout has been read.
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Run) : reject(new Error(`fixture ${name} exited with ${code}`))));
  });
}

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
beforeAll(() => {
  process.env.OTEL_TRACES_SAMPLER = 'always_on';
  telemetry = startTelemetry({ serviceName: 'telemetry-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
});
afterAll(() => telemetry.shutdown());
beforeEach(() => exporter.reset());

test('a business span inside an express request is a descendant of the http server span, and the log line carries its trace id', async () => {
  const run = await scenario('business');
  expect(run.status).toBe(200);

  const serverSpan = run.spans.find((s) => s.kind === SpanKind.SERVER);
  const business = run.spans.find((s) => s.name === 'order.confirm');
  expect(serverSpan).toBeDefined();
  expect(business).toBeDefined();
  // Under the server span, through express's request-handler span (as in production).
  const byId = new Map(run.spans.map((s) => [s.spanId, s]));
  const chain: string[] = [];
  for (let at = byId.get(business!.parentSpanId ?? ''); at; at = byId.get(at.parentSpanId ?? '')) chain.push(at.spanId);
  expect(chain).toContain(serverSpan!.spanId);
  expect(business!.traceId).toBe(serverSpan!.traceId);
  expect(business!.attributes).toMatchObject({ 'order.id': 'o-1', 'items.count': 2 });
  expect(serverSpan!.service).toBe('telemetry-test');

  const line = run.lines.find((l) => l.msg === 'confirming');
  expect(line).toMatchObject({ trace_id: business!.traceId, span_id: business!.spanId });
});

test('an incoming traceparent is continued: the server span joins the caller\'s trace (parent-based)', async () => {
  const run = await scenario('traceparent');
  const serverSpan = run.spans.find((s) => s.kind === SpanKind.SERVER);
  expect(serverSpan?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  expect(serverSpan?.parentSpanId).toBe('00f067aa0ba902b7');
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
  const run = await scenario('probes');
  expect(run.spans).toEqual([]);
});

describe('fetch (undici) between two servers: one trace', () => {
  test('When a handler calls another server with fetch, then the callee\'s server span is a child of the caller\'s fetch client span, in the caller\'s trace', async () => {
    const run = await scenario('chain');
    expect(run.status).toBe(201);
    const traceId = '0af7651916cd43dd8448eb211c80319c';

    const spans = run.spans;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: SpanLine) => {
      const chain = [];
      for (let at = byId.get(span.parentSpanId ?? ''); at; at = byId.get(at.parentSpanId ?? '')) chain.push(at);
      return chain;
    };
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    const callerServer = servers.find((s) => s.attributes['http.route'] === '/api/orders' || s.attributes['http.target'] === '/api/orders' || s.attributes['url.path'] === '/api/orders');
    const calleeServer = servers.find((s) => s !== callerServer);
    const client = spans.find((s) => s.kind === SpanKind.CLIENT && s.scope === '@opentelemetry/instrumentation-undici');
    expect(callerServer).toBeDefined();
    expect(calleeServer).toBeDefined();
    expect(client).toBeDefined();

    // The fixture's own fetch had no active span: it got no client span (the caller's server span
    // is the one its traceparent asked for).
    expect(spans.filter((s) => s.kind === SpanKind.CLIENT)).toEqual([client]);
    expect(callerServer!.parentSpanId).toBe('b7ad6b7169203331');
    expect(client!.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.path': '/api/payments/charges', 'http.response.status_code': 200 });
    expect(ancestors(client!).map((s) => s.name)).toEqual(expect.arrayContaining(['order.place', callerServer!.name]));
    expect(calleeServer!.parentSpanId).toBe(client!.spanId);
    for (const span of [callerServer!, client!, calleeServer!]) expect(span.traceId).toBe(traceId);
  });

  test('A fetch outside any span (a background poll) makes no span and sends no traceparent', async () => {
    const run = await scenario('background');
    expect(run.status).toBe(200);
    expect(run.seen).toBeNull();
    // The callee's http instrumentation starts a root server span of its own (express's spans
    // under it); no client span exists.
    const servers = run.spans.filter((s) => s.kind === SpanKind.SERVER);
    expect(servers).toHaveLength(1);
    expect(servers[0].parentSpanId).toBeUndefined();
    expect(run.spans.filter((s) => s.kind === SpanKind.CLIENT)).toEqual([]);
    for (const span of run.spans) expect(span.traceId).toBe(servers[0].traceId);
  });
});
