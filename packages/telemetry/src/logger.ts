import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that must never reach a log line. Tokens and passwords travel in these places; pino
 * replaces them before serialisation so even a debug dump of a request cannot leak them.
 * Redaction works on object paths only: a secret interpolated into a message string is not
 * caught, so code logs secrets' containers (objects), never formatted strings.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'authorization',
  '*.authorization',
  'password',
  'token',
  'card',
  'cardNumber',
  '*.password',
  '*.token',
  '*.card',
  '*.cardNumber',
  'body.password',
  'body.card',
];

/**
 * trace_id / span_id of the active span on every line, so a log line leads to its trace. This
 * does not rely on @opentelemetry/instrumentation-pino, which only patches pino when pino is
 * loaded after the SDK started; processes that call startTelemetry() late (and tests) would
 * otherwise lose the ids silently. The keys match the instrumentation's, so both can coexist.
 */
function traceMixin(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !trace.isSpanContextValid(context)) return {};
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: `0${context.traceFlags.toString(16)}`,
  };
}

/** `destination` exists for tests and tools that capture output; processes log to stdout. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceMixin,
  };
  return destination ? pino(options, destination) : pino(options);
}
