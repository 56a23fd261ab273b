import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startOtlpReceiver } from '../../telemetry/test/otlp-receiver';

/**
 * The CLI as users run it (`npx banyan …`, i.e. bin/banyan.js), traced when an OTLP endpoint is
 * set: its command is a span, and the admin API call under it carries the trace to the gateway.
 * The "gateway" here is a real HTTP server of the test's own answering GET /routes and recording
 * what arrives.
 */
const bin = path.resolve(__dirname, '../bin/banyan.js');
const SPAN_KIND_CLIENT = 3;

let admin: http.Server;
let adminUrl: string;
const seen: Array<{ url?: string; traceparent?: string }> = [];

beforeAll(async () => {
  admin = http.createServer((req, res) => {
    seen.push({ url: req.url, traceparent: req.headers.traceparent as string | undefined });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 3, source: 'database', routes: [] }));
  });
  await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
  adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => admin.close(() => resolve())));
beforeEach(() => (seen.length = 0));

function banyan(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH, BANYAN_ADMIN_URL: adminUrl, BANYAN_ADMIN_TOKEN: 'a-token-for-the-cli-test', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr })); // after stdout's last chunk
  });
}

test('With OTEL_EXPORTER_OTLP_ENDPOINT set, `banyan status` is a banyan-cli trace whose admin API call carries the traceparent, flushed before exit', async () => {
  const receiver = await startOtlpReceiver();
  try {
    const run = await banyan(['status', '--json'], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_on' });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ version: 3 });
    const root = receiver.spans.find((s) => s.name === 'banyan status');
    expect(root).toMatchObject({ service: 'banyan-cli', attributes: { 'banyan.cli.command': 'status' } });
    const call = receiver.spans.find((s) => s.kind === SPAN_KIND_CLIENT);
    expect(call).toMatchObject({ traceId: root!.traceId, parentSpanId: root!.spanId });
    expect(seen).toHaveLength(1);
    const [, traceId, parentId] = String(seen[0].traceparent).split('-');
    expect([traceId, parentId]).toEqual([root!.traceId, call!.spanId]);
  } finally {
    await receiver.close();
  }
});

test('Without an endpoint the SDK never starts: no traceparent leaves the CLI, and a failing command still exits with its own code', async () => {
  const run = await banyan(['status'], {});
  expect(run.code).toBe(0);
  expect(seen).toHaveLength(1);
  expect(seen[0].traceparent).toBeUndefined();

  const refused = await banyan(['status'], { BANYAN_ADMIN_URL: 'http://127.0.0.1:1' });
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain('cannot reach the gateway admin API at http://127.0.0.1:1');
});
