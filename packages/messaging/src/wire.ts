import { context, propagation, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import type { Options } from 'amqplib';
import type { EventEnvelope } from '@banyan/events';

/** Structured-mode CloudEvents: the body is the whole envelope. */
export const CONTENT_TYPE = 'application/cloudevents+json';

/**
 * The AMQP properties every Banyan event is published with. `persistent` so a broker restart
 * keeps it, `mandatory` so an unroutable event comes back instead of vanishing, and the W3C trace
 * headers so the consumer's span continues the producer's trace.
 */
export function publishOptions(envelope: EventEnvelope, ctx: Context = context.active()): Options.Publish {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  // Without a registered propagator (no OpenTelemetry SDK in this process) inject writes nothing;
  // the context recorded in the outbox row still travels so the consumer can continue it.
  if (!headers.traceparent && envelope.traceparent) headers.traceparent = envelope.traceparent;
  if (!headers.tracestate && envelope.tracestate) headers.tracestate = envelope.tracestate;
  return {
    persistent: true,
    mandatory: true,
    messageId: envelope.id,
    type: envelope.type,
    contentType: CONTENT_TYPE,
    timestamp: Math.floor(Date.parse(envelope.time) / 1000),
    appId: envelope.source,
    headers,
  };
}

export function encode(envelope: EventEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope));
}

/** The trace context a message carries: its headers first, the envelope's own fields second. */
export function extractContext(headers: Record<string, unknown> | undefined, envelope?: Partial<EventEnvelope>): Context {
  const carrier: Record<string, string> = {};
  if (envelope?.traceparent) carrier.traceparent = envelope.traceparent;
  if (envelope?.tracestate) carrier.tracestate = envelope.tracestate;
  for (const key of ['traceparent', 'tracestate']) {
    const value = headers?.[key];
    if (typeof value === 'string') carrier[key] = value;
    else if (Buffer.isBuffer(value)) carrier[key] = value.toString();
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}
