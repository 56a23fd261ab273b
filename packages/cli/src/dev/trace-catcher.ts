import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { boundTimeouts, localOnly, readBody, requestTarget, sendText } from './local-http';
import { spansOf, type CaughtSpan } from './otlp-spans';
import { tcpReachable } from './preflight';
import { TraceStore } from './trace-store';

export { spansOf, type CaughtSpan } from './otlp-spans';

export interface TraceCatcher {
  /** Where the traces are listed, e.g. http://127.0.0.1:4318/ */
  url: string;
  /** What to put in OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * 16 MiB per export request. The exporters' batch processor sends at most 512 spans a request
 * (OTEL_BSP_MAX_EXPORT_BATCH_SIZE); with their attributes (an SQL statement each for pg spans)
 * that is one to a few MiB, so a real export always fits and a larger body is refused with 413
 * before it is parsed: JSON.parse needs several times the body's size while it runs.
 */
const MAX_BODY = 16 * 1024 * 1024;
const KIND = ['', '', 'server', 'client', 'producer', 'consumer'];
const MAX_INDENT = 40;
const TRACE_ID = /^[0-9a-f]{32}$/i;

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
    if (!hidden(s)) {
      const siblings = children.get(parent);
      if (siblings) siblings.push(s);
      else children.set(parent, [s]);
    } else if (s.database) queries.set(parent, (queries.get(parent) ?? 0) + 1);
  }
  const width = Math.max(...spans.filter((s) => !hidden(s)).map((s) => s.service.length), 7);
  const lines: string[] = [];
  const printed = new Set<CaughtSpan>();
  // A chain thousands of spans deep (a malformed or runaway trace) stays a page, not megabytes of spaces.
  const indent = (depth: number) => (depth <= MAX_INDENT ? '  '.repeat(depth) : `${'  '.repeat(MAX_INDENT)}(${depth}) `);
  const byStart = (a: CaughtSpan, b: CaughtSpan) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0);
  // Depth-first with a stack of its own, not recursion: a malformed or runaway trace may be a
  // chain thousands of spans deep, which would exhaust the call stack.
  const walk = (parent: string | undefined, depth: number) => {
    const stack = (children.get(parent) ?? []).sort(byStart).reverse().map((s) => ({ s, depth }));
    for (let next = stack.pop(); next; next = stack.pop()) {
      const { s } = next;
      if (printed.has(s)) continue; // a cycle in a malformed export
      printed.add(s);
      const ms = Number(s.endNs - s.startNs) / 1e6;
      const kind = KIND[s.kind] ? ` [${KIND[s.kind]}]` : '';
      const db = queries.get(s.spanId) ? `  (+${queries.get(s.spanId)} db)` : '';
      const error = s.status === 2 ? '  ERROR' : '';
      lines.push(`${s.service.padEnd(width)}  ${indent(next.depth)}${s.name}${kind}  ${ms.toFixed(1)} ms${db}${error}`);
      const below = (children.get(s.spanId) ?? []).sort(byStart);
      for (let i = below.length - 1; i >= 0; i--) stack.push({ s: below[i], depth: next.depth + 1 });
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


const USAGE = 'POST /v1/traces (OTLP/HTTP JSON), GET / (recent traces), GET /traces/<trace id>[?all][&format=json]';

/**
 * A development trace catcher for `npm start` when no collector is configured: an OTLP/HTTP
 * receiver on Jaeger's port (4318) that keeps recent traces in memory (bounded by count and by
 * bytes, trace-store.ts) and shows each as a tree at /traces/<trace id>. It starts only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is unset and nothing listens on the port, so a real Jaeger or
 * collector always wins (ADR 0406). It answers loopback Host names only, and no request,
 * however malformed, gets an exception out of it (local-http.ts).
 */
export async function startTraceCatcherIfFree(options: { host: string; port: number; log?: (line: string) => void }): Promise<TraceCatcher | undefined> {
  if (await tcpReachable(options.host, options.port, 500)) return undefined;
  const store = new TraceStore();
  const log = options.log ?? (() => undefined);

  const server = http.createServer(
    localOnly('trace catcher', log, async (req, res) => {
      const target = requestTarget(req);
      if (!target) {
        req.resume();
        return sendText(res, 400, `Not a path this catcher serves. ${USAGE}`);
      }
      const { path, query } = target;
      if (path === '/v1/traces') {
        if (req.method !== 'POST') return refuseMethod(req, res, 'POST');
        return receive(req, res);
      }
      const traceId = path.startsWith('/traces/') ? path.slice('/traces/'.length) : undefined;
      if (path !== '/' && traceId === undefined) {
        req.resume();
        return sendText(res, 404, USAGE);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return refuseMethod(req, res, 'GET, HEAD');
      req.resume();
      if (traceId === undefined) return sendText(res, 200, listing());
      if (!TRACE_ID.test(traceId)) return sendText(res, 400, 'A trace id is 32 hex digits, as in a traceparent header or a log line\'s traceId.');
      const spans = store.get(traceId.toLowerCase());
      if (!spans) return sendText(res, 404, `No span of trace ${traceId} has arrived (yet): processes export sampled spans every few seconds.`);
      if (query.get('format') === 'json') {
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(spans, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
      }
      return sendText(res, 200, renderTrace(spans, query.has('all')));
    }),
  );
  boundTimeouts(server);

  const refuseMethod = (req: http.IncomingMessage, res: http.ServerResponse, allow: string) => {
    req.resume();
    sendText(res, 405, `${req.method} is not served here; ${allow} is.`, { allow });
  };

  const receive = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Exporters do not send Origin; a browser does, and no web page gets to write spans here.
    if (req.headers.origin !== undefined) {
      req.resume();
      return sendText(res, 403, 'Spans are accepted from OTLP exporters, not from web pages.');
    }
    if (!/^application\/json\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''))) {
      req.resume();
      return sendText(res, 415, 'This catcher reads OTLP/HTTP JSON (@opentelemetry/exporter-trace-otlp-http, content-type application/json), not protobuf.');
    }
    const body = await readBody(req, MAX_BODY);
    if (!body.ok) return sendText(res, 413, `An export request is limited to ${MAX_BODY} bytes.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.bytes.toString('utf8'));
    } catch (err) {
      return sendText(res, 400, `Not an OTLP JSON export request: ${(err as Error).message.slice(0, 200)}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return sendText(res, 400, 'Not an OTLP JSON export request: the body is not an object.');
    const { spans, rejected } = spansOf(parsed);
    store.keep(spans);
    // OTLP's partial success: the exporter logs what was left out, and why.
    const answer = rejected ? { partialSuccess: { rejectedSpans: rejected, errorMessage: 'spans need a 32-hex-digit traceId, a 16-hex-digit spanId and decimal nanosecond times' } } : {};
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  };

  const listing = () => {
    const recent = store.recent(20);
    const lines = recent.map(([id, spans]) => {
      const ids = new Set(spans.map((s) => s.spanId));
      const root = spans.find((s) => !s.parentSpanId || !ids.has(s.parentSpanId)) ?? spans[0];
      return `${id}  ${root.service} ${root.name}  (${spans.length} spans)`;
    });
    return [`The last ${recent.length} of ${store.size.traces} traces caught; open /traces/<trace id> for one.`, ...lines].join('\n');
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  // After listening, an error on the server (not on a request) is logged, never thrown.
  server.on('error', (err) => log(`server error: ${err.message}`));
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
