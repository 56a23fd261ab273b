import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Span } from '@opentelemetry/api';
import type { Domain, Mode, Side } from './domains';

/**
 * The gateway's hop, traced by the gateway itself (ADR 0208). The http instrumentation would run
 * every proxied request inside `context.with`, bind the request and response emitters and wrap the
 * upstream call in a client span; on this machine that halved the proxy's throughput whether or
 * not the trace was sampled. Here a request costs one sampler decision and one header write.
 *
 * No context is made active: nothing below the handler creates spans of its own, and the upstream
 * continues the trace from the `traceparent` written into the forwarded headers. Without a
 * registered SDK (tests, OTEL_SDK_DISABLED) the API is a no-op and the headers are left as sent.
 */
const tracer = trace.getTracer('@banyan/gateway');

export interface Hop {
  /** The trace id, for log lines (no span is active, so the logger's mixin cannot find it). */
  readonly traceId: string | undefined;
  /** `status` undefined: the client went away before an answer. */
  end(status: number | undefined, side: Side, mode: Mode, fallback?: string): void;
}

const NO_HOP: Hop = { traceId: undefined, end() {} };

/**
 * Start the server span of one proxied request, as a child of the caller's `traceparent` if any,
 * and rewrite the request's trace headers so the upstream's span becomes this one's child.
 */
export function startHop(headers: IncomingHttpHeaders, method: string, domain: Domain, url: string): Hop {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer.startSpan(`${method} /api/${domain}`, { kind: SpanKind.SERVER }, parent);
  const context = span.spanContext();
  if (!trace.isSpanContextValid(context)) return NO_HOP;
  propagation.inject(trace.setSpan(parent, span), headers);
  if (span.isRecording()) {
    // Only sampled spans pay for attributes (the semantic conventions' names, as the instrumentation would).
    span.setAttributes({ 'http.request.method': method, 'url.path': url.split('?', 1)[0], 'http.route': `/api/${domain}`, 'banyan.domain': domain });
  }
  return {
    traceId: context.traceId,
    end: span.isRecording() ? (status, side, mode, fallback) => endSpan(span, status, side, mode, fallback) : NO_HOP.end,
  };
}

function endSpan(span: Span, status: number | undefined, side: Side, mode: Mode, fallback: string | undefined): void {
  span.setAttributes({ 'banyan.route.side': side, 'banyan.route.mode': mode });
  if (status === undefined) span.setAttribute('banyan.client_gone', true);
  else span.setAttribute('http.response.status_code', status);
  if (fallback) span.setAttribute('banyan.fallback', fallback);
  if (status !== undefined && status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
