import { truncateUtf8 } from './local-http';

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

/**
 * 256 bytes of span name. OpenTelemetry names spans for low cardinality (`POST /api/orders`,
 * `orders publish`, `pg.query:SELECT banyan_monolith`): every name Banyan's processes produce is
 * well under 100 bytes, so this keeps all of them whole and one line of the tree readable, while
 * a name built from data (a whole SQL statement, a URL with its query) is cut, not stored whole.
 */
export const SPAN_NAME_BYTES = 256;
/**
 * 128 bytes of `service.name`, the only attribute value the catcher keeps (`banyan-<process>`
 * is under 30). Every other attribute is only looked at (is `db.system` there?) and dropped, so
 * no attribute value, however long, is held in memory beyond the request that carried it.
 */
export const SERVICE_NAME_BYTES = 128;

type AnyValue = { stringValue?: unknown; intValue?: unknown; boolValue?: unknown; doubleValue?: unknown };
type KeyValue = { key?: unknown; value?: AnyValue };

/** Arrays from outside are arrays only if they are: anything else counts as empty. */
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const attribute = (attributes: unknown, key: string): AnyValue | undefined => {
  const found = list(attributes).find((a) => record(a).key === key) as KeyValue | undefined;
  return found ? record(found.value) : undefined;
};
const hasAttribute = (attributes: unknown, ...keys: string[]) => keys.some((k) => attribute(attributes, k) !== undefined);

const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;
/** Nanoseconds since the epoch: a decimal string (the OTLP JSON mapping) or a safe integer. */
function nanos(v: unknown): bigint | undefined {
  if (v === undefined) return 0n;
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return undefined;
}
const smallInt = (v: unknown, max: number) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : 0);

/**
 * The spans of an OTLP/HTTP JSON export request (what @opentelemetry/exporter-trace-otlp-http
 * sends), flattened. Ids arrive hex-encoded, as the OTLP JSON mapping says. Never throws: a
 * span without valid ids or times is counted in `rejected` (OTLP's partial success) and left
 * out, any other field that is not what the mapping says reads as its default.
 */
export function spansOf(body: unknown): { spans: CaughtSpan[]; rejected: number } {
  const spans: CaughtSpan[] = [];
  let rejected = 0;
  for (const rs of list(record(body).resourceSpans)) {
    const resource = record(record(rs).resource);
    const serviceValue = attribute(resource.attributes, 'service.name')?.stringValue;
    const service = truncateUtf8(typeof serviceValue === 'string' ? serviceValue : 'unknown', SERVICE_NAME_BYTES);
    for (const ss of list(record(rs).scopeSpans)) {
      for (const item of list(record(ss).spans)) {
        const s = record(item);
        const parent = s.parentSpanId;
        const startNs = nanos(s.startTimeUnixNano);
        const endNs = nanos(s.endTimeUnixNano);
        const validParent = parent === undefined || parent === '' || (typeof parent === 'string' && SPAN_ID.test(parent));
        if (typeof s.traceId !== 'string' || !TRACE_ID.test(s.traceId) || typeof s.spanId !== 'string' || !SPAN_ID.test(s.spanId) || !validParent || startNs === undefined || endNs === undefined) {
          rejected++;
          continue;
        }
        spans.push({
          service,
          traceId: s.traceId.toLowerCase(),
          spanId: s.spanId.toLowerCase(),
          parentSpanId: parent ? String(parent).toLowerCase() : undefined,
          name: truncateUtf8(typeof s.name === 'string' ? s.name : '', SPAN_NAME_BYTES),
          kind: smallInt(s.kind, 5) || 1,
          startNs,
          endNs,
          status: smallInt(record(s.status).code, 2),
          database: hasAttribute(s.attributes, 'db.system', 'db.system.name'),
          framework: hasAttribute(s.attributes, 'express.type'),
        });
      }
    }
  }
  return { spans, rejected };
}
