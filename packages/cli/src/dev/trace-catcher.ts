import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tcpReachable } from './preflight';

/** One span as the catcher keeps it: what a reader needs to see the shape of a trace. */
export interface CaughtSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  /** OTLP status code: 2 is an error. */
  status: number;
  /** A database call (the pg instrumentation's spans), counted on its caller's line in the text view. */
  database: boolean;
  /** Express's own middleware, router and handler spans, left out of the text view. */
  framework: boolean;
}

export interface TraceCatcher {
  /** Where the traces are listed, e.g. http://127.0.0.1:4318/ */
  url: string;
  /** What to put in OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  close(): Promise<void>;
}

const MAX_TRACES = 500;
const MAX_SPANS_PER_TRACE = 5_000;
/** All traces together: the oldest go first beyond it (a span is a few hundred bytes here). */
const MAX_SPANS = 100_000;
const MAX_BODY = 16 * 1024 * 1024;
const KIND = ['', '', 'server', 'client', 'producer', 'consumer'];

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value?: AnyValue };
interface OtlpSpan {
  traceId?: unknown;
  spanId?: unknown;
  parentSpanId?: unknown;
  name?: unknown;
  kind?: unknown;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  status?: { code?: number };
  attributes?: KeyValue[];
}
interface OtlpExport {
  resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}
const valueOf = (list: KeyValue[] | undefined, key: string) => {
  const v = list?.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue) : undefined;
};

/**
 * The spans of an OTLP/HTTP JSON export request (what @opentelemetry/exporter-trace-otlp-http
 * sends), flattened. Ids arrive hex-encoded, as the OTLP JSON mapping says.
 */
export function spansOf(body: unknown): CaughtSpan[] {
  const out: CaughtSpan[] = [];
  for (const rs of (body as OtlpExport).resourceSpans ?? []) {
    const service = String(valueOf(rs.resource?.attributes, 'service.name') ?? 'unknown');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        if (typeof s.traceId !== 'string' || typeof s.spanId !== 'string') continue;
        out.push({
          service,
          traceId: s.traceId.toLowerCase(),
          spanId: s.spanId.toLowerCase(),
          parentSpanId: s.parentSpanId ? String(s.parentSpanId).toLowerCase() : undefined,
          name: String(s.name ?? ''),
          kind: Number(s.kind ?? 1),
          startNs: BigInt(s.startTimeUnixNano ?? 0),
          endNs: BigInt(s.endTimeUnixNano ?? 0),
          status: Number(s.status?.code ?? 0),
          database: valueOf(s.attributes, 'db.system') !== undefined || valueOf(s.attributes, 'db.system.name') !== undefined,
          framework: valueOf(s.attributes, 'express.type') !== undefined,
        });
      }
    }
  }
  return out;
}

/**
 * One trace as an indented tree, children in the order they started: the service, the span's
 * name, its kind where it crosses a process, its duration. Unless `all`, express's middleware
 * spans are left out (their children hang from the nearest span shown) and database spans are
 * counted on the line of the span that made them.
 */
export function renderTrace(spans: CaughtSpan[], all = false): string {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const hidden = (s: CaughtSpan) => !all && (s.database || s.framework);
  /** The nearest ancestor shown, or undefined for a root (its parent is the caller's, or was not exported). */
  const shownParent = (s: CaughtSpan) => {
    let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    // Bounded: spans come from outside, and a malformed export may make parents a cycle.
    for (let hops = 0; p && hidden(p) && hops < spans.length; hops++) p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined;
    return p && !hidden(p) && p.spanId !== s.spanId ? p.spanId : undefined;
  };
  const children = new Map<string | undefined, CaughtSpan[]>();
  const queries = new Map<string | undefined, number>();
  for (const s of spans) {
    const parent = shownParent(s);
    if (!hidden(s)) children.set(parent, [...(children.get(parent) ?? []), s]);
    else if (s.database) queries.set(parent, (queries.get(parent) ?? 0) + 1);
  }
  const width = Math.max(...spans.filter((s) => !hidden(s)).map((s) => s.service.length), 7);
  const lines: string[] = [];
  const printed = new Set<CaughtSpan>();
  const walk = (parent: string | undefined, depth: number) => {
    const list = (children.get(parent) ?? []).sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
    for (const s of list) {
      if (printed.has(s)) continue; // a cycle in a malformed export
      printed.add(s);
      const ms = Number(s.endNs - s.startNs) / 1e6;
      const kind = KIND[s.kind] ? ` [${KIND[s.kind]}]` : '';
      const db = queries.get(s.spanId) ? `  (+${queries.get(s.spanId)} db)` : '';
      const error = s.status === 2 ? '  ERROR' : '';
      lines.push(`${s.service.padEnd(width)}  ${'  '.repeat(depth)}${s.name}${kind}  ${ms.toFixed(1)} ms${db}${error}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  // Spans no root leads to (parents in a cycle, in a malformed export) are drawn as roots.
  for (const s of spans) {
    if (hidden(s) || printed.has(s)) continue;
    children.set(`unreached:${s.spanId}`, [s]);
    walk(`unreached:${s.spanId}`, 0);
  }
  const services = new Set(spans.map((s) => s.service));
  lines.push(`${spans.length} spans from ${services.size} services in trace ${spans[0]?.traceId ?? '?'}${all ? '' : ' (?all shows the middleware and database spans too)'}`);
  return lines.join('\n');
}

/**
 * A development trace catcher for `npm start` when no collector is configured: an OTLP/HTTP
 * receiver on Jaeger's port (4318) that keeps the last 500 traces in memory and shows each as a
 * tree at /traces/<trace id>. It starts only when OTEL_EXPORTER_OTLP_ENDPOINT is unset and nothing
 * listens on the port, so a real Jaeger or collector always wins (ADR 0406).
 */
export async function startTraceCatcherIfFree(options: { host: string; port: number }): Promise<TraceCatcher | undefined> {
  if (await tcpReachable(options.host, options.port, 500)) return undefined;
  const traces = new Map<string, CaughtSpan[]>();

  let total = 0;
  const keep = (spans: CaughtSpan[]) => {
    for (const span of spans) {
      let trace = traces.get(span.traceId);
      if (!trace) traces.set(span.traceId, (trace = []));
      if (trace.length >= MAX_SPANS_PER_TRACE) continue;
      trace.push(span);
      total++;
      // Oldest trace out first (a Map iterates in insertion order), never the one just added to.
      while ((traces.size > MAX_TRACES || total > MAX_SPANS) && traces.keys().next().value !== span.traceId) {
        const oldest = traces.keys().next().value!;
        total -= traces.get(oldest)!.length;
        traces.delete(oldest);
      }
    }
  };

  const text = (res: http.ServerResponse, status: number, body: string) =>
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${body}\n`);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://catcher');
    if (req.method === 'POST' && url.pathname === '/v1/traces') {
      // Exporters do not send Origin; a browser does, and no web page gets to write spans here.
      if (req.headers.origin !== undefined) {
        req.resume();
        return text(res, 403, 'Spans are accepted from OTLP exporters, not from web pages.');
      }
      if (!/^application\/json\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''))) {
        req.resume();
        return text(res, 415, 'This catcher reads OTLP/HTTP JSON (@opentelemetry/exporter-trace-otlp-http, content-type application/json), not protobuf.');
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      req.on('end', () => {
        if (size > MAX_BODY) return text(res, 413, `An export request is limited to ${MAX_BODY} bytes.`);
        try {
          keep(spansOf(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        } catch (err) {
          return text(res, 400, `Not an OTLP JSON export request: ${(err as Error).message}`);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith('/traces/')) {
      const id = url.pathname.slice('/traces/'.length).toLowerCase();
      const spans = traces.get(id);
      if (!spans) return text(res, 404, `No span of trace ${id} has arrived (yet): processes export sampled spans every few seconds.`);
      if (url.searchParams.get('format') === 'json') {
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(spans, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
      }
      return text(res, 200, renderTrace(spans, url.searchParams.has('all')));
    }
    if (req.method === 'GET' && url.pathname === '/') {
      const recent = [...traces.entries()].slice(-20).reverse();
      const lines = recent.map(([id, spans]) => {
        const ids = new Set(spans.map((s) => s.spanId));
        const root = spans.find((s) => !s.parentSpanId || !ids.has(s.parentSpanId)) ?? spans[0];
        return `${id}  ${root.service} ${root.name}  (${spans.length} spans)`;
      });
      return text(res, 200, [`The last ${recent.length} of ${traces.size} traces caught; open /traces/<trace id> for one.`, ...lines].join('\n'));
    }
    req.resume();
    text(res, 404, 'POST /v1/traces (OTLP/HTTP JSON), GET / (recent traces), GET /traces/<trace id>[?all][&format=json]');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://${options.host}:${port}`;
  return {
    url: `${base}/`,
    endpoint: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
