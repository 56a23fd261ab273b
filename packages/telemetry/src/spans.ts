import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = () => trace.getTracer('banyan');

const KINDS = { internal: SpanKind.INTERNAL, client: SpanKind.CLIENT, producer: SpanKind.PRODUCER } as const;

/**
 * A business span around `fn` (e.g. `order.place` with `order.id`, `items.count`): transport
 * spans come from the instrumentations, this adds what the operation means. A thrown error is
 * recorded on the span with status ERROR and rethrown unchanged, so callers' handling is not
 * affected by tracing. `kind: 'client'` for a call to something no instrumentation traces (an SMTP
 * server through nodemailer), so trace views draw it as the outgoing call it is.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  options: { kind?: keyof typeof KINDS } = {},
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes, kind: KINDS[options.kind ?? 'internal'] }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The current trace id (for problem+json bodies, shadow diffs, audit rows), if any. */
export function currentTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? context.traceId : undefined;
}
