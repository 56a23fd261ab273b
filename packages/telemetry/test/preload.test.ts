import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { startOtlpReceiver } from './otlp-receiver';

/**
 * The preload as processes use it: `node -r @banyan/telemetry/register <entry>`, compiled, in a
 * real child process (no jest module layer), exporting over OTLP/HTTP to a receiver of the test's
 * own. The fixture knows nothing about OpenTelemetry.
 */
const root = path.resolve(__dirname, '../../..');
const fixture = path.join(__dirname, 'fixtures/preloaded-app.js');
const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };

beforeAll(() => {
  // The preload is resolved through the package's exports, i.e. its dist: build it first.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/telemetry'], { cwd: root, stdio: 'pipe' });
}, 120_000);

function runFixture(env: Record<string, string>) {
  return new Promise<{ signal: NodeJS.Signals | null; code: number | null; lines: Array<Record<string, unknown>> }>((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@banyan/telemetry/register', fixture], {
      cwd: root,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    // 'close', not 'exit': 'exit' can fire before the last of stdout has been read.
    child.on('close', (code, signal) => {
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, signal, lines });
    });
  });
}

test('a process started with the preload exports one connected trace (client → server → express → business span) and flushes it on SIGTERM', async () => {
  const receiver = await startOtlpReceiver();
  try {
    // Banyan samples 10 % of new traces by default (ADR 0402); this test needs every one.
    const run = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'banyan-fixture', OTEL_TRACES_SAMPLER: 'always_on' });

    // Without its own handler the process still dies of the signal, after the flush.
    expect(run.signal).toBe('SIGTERM');
    const spans = receiver.spans;
    const client = spans.find((s) => s.kind === SPAN_KIND.CLIENT);
    const server = spans.find((s) => s.kind === SPAN_KIND.SERVER);
    const business = spans.find((s) => s.name === 'order.load');
    expect(client && server && business).toBeTruthy();
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['banyan-fixture']));
    expect(server!.parentSpanId).toBe(client!.spanId);
    expect(server!.attributes['http.route']).toBe('/orders/:id');
    expect(spans.some((s) => s.scope === '@opentelemetry/instrumentation-express')).toBe(true);

    // The business span hangs under the server span (directly or through an express span).
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    let ancestor = byId.get(business!.parentSpanId ?? '');
    while (ancestor && ancestor !== server) ancestor = byId.get(ancestor.parentSpanId ?? '');
    expect(ancestor).toBe(server);

    // Both a plain pino logger (patched by instrumentation-pino) and createLogger carry the ids.
    expect(run.lines.find((l) => l.msg === 'plain pino line')).toMatchObject({ trace_id: server!.traceId, span_id: expect.any(String) });
    expect(run.lines.find((l) => l.msg === 'createLogger line')).toMatchObject({ trace_id: business!.traceId, span_id: business!.spanId });
  } finally {
    await receiver.close();
  }
});

test('OTEL_SDK_DISABLED=true: the preload does nothing (no spans, no trace ids) and the process runs as without it', async () => {
  const receiver = await startOtlpReceiver();
  try {
    const run = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' });
    expect(run.signal).toBe('SIGTERM');
    expect(receiver.spans).toEqual([]);
    const line = run.lines.find((l) => l.msg === 'createLogger line');
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('trace_id');
  } finally {
    await receiver.close();
  }
});
