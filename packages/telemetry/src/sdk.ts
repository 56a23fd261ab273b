import type { IncomingMessage } from 'node:http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  /** Used when OTEL_SERVICE_NAME is not set (the standard variable wins, so operators can rename). */
  serviceName: string;
  /** Replaces the processors chosen from the environment (tests pass an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  /** Whether spans leave the process (an OTLP endpoint is configured). */
  readonly exporting: boolean;
  /** Flushes pending spans and stops the SDK; safe to call more than once. */
  shutdown(): Promise<void>;
}

/** OTEL_SDK_DISABLED=true, as the OpenTelemetry spec reads it (case-insensitive, trimmed). */
export const telemetryDisabled = (env: NodeJS.ProcessEnv) => env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';

/** Probes and scrapes every few seconds would bury the traces people actually look for. */
const NOISE = /^\/(healthz|readyz|metrics)(\?|$)/;

/**
 * The processors for this environment. With an OTLP endpoint: a batch processor (OTEL_BSP_*
 * tune it) in front of the OTLP/HTTP exporter. Without one: no exporter at all, so a laptop
 * without a collector neither errors nor retries. A provider is still registered then (with a
 * processor that drops spans), because trace ids are useful without a backend: they reach the
 * log lines, the outbox rows' traceparent and the shadow diffs, and they continue the caller's
 * trace for the next hop.
 */
export function spanProcessorsFromEnv(env: NodeJS.ProcessEnv = process.env): SpanProcessor[] {
  const url = otlpTracesUrl(env);
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((s) => s.trim());
  if (!url || exporters.includes('none')) return [new NoopSpanProcessor()];
  return [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), ...batchOptionsFromEnv(env) })];
}

/**
 * OTEL_BSP_* as the spec names them. Since OpenTelemetry JS 3 the processor no longer reads the
 * environment itself (NodeSDK does, but only for a processor it builds), so a processor we build
 * reads them here; an unset or invalid value leaves the SDK's default.
 */
function batchOptionsFromEnv(env: NodeJS.ProcessEnv) {
  const number = (name: string) => {
    const value = Number(env[name]?.trim() || NaN);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  return {
    scheduledDelayMillis: number('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: number('OTEL_BSP_EXPORT_TIMEOUT'),
    maxQueueSize: number('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  };
}

/** Per the OTLP exporter spec: the signal-specific URL as is, the generic one plus /v1/traces. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/** The share of new traces kept when OTEL_TRACES_SAMPLER is unset (ADR 0402). */
export const DEFAULT_SAMPLE_RATIO = 0.1;

/**
 * Banyan's default is `parentbased_traceidratio` at DEFAULT_SAMPLE_RATIO (ADR 0402): a request
 * keeps the decision its caller made, so a trace is never half-kept across the gateway, the
 * services and the relay, and an unsampled request still carries a trace id (logs, outbox rows,
 * shadow diffs) at a fraction of the cost. OTEL_TRACES_SAMPLER overrides it the standard way (the
 * SDK reads it, and _ARG, itself); OTEL_TRACES_SAMPLER_ARG alone sets the default's ratio.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv = process.env): Sampler | undefined {
  if (env.OTEL_TRACES_SAMPLER?.trim()) return undefined;
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : NaN;
  return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio >= 0 && ratio <= 1 ? ratio : DEFAULT_SAMPLE_RATIO) });
}

/**
 * Set this property (to true) on an http.Agent whose requests already carry the caller's trace
 * context and must not get a client span of their own: the gateway's proxy traces its hop itself
 * (ADR 0208), because the instrumentation's per-request wrapping cost more than the proxying.
 * A symbol from the global registry, so a process can use it without importing this package.
 */
export const UNTRACED_AGENT = Symbol.for('banyan.telemetry.untraced-agent');

const isUntraced = (options: { agent?: unknown }) => Boolean(options.agent && (options.agent as Record<symbol, unknown>)[UNTRACED_AGENT]);

const INSTRUMENTATIONS = {
  http: () => new HttpInstrumentation({ ignoreIncomingRequestHook: (req: IncomingMessage) => NOISE.test(req.url ?? ''), ignoreOutgoingRequestHook: isUntraced }),
  express: () => new ExpressInstrumentation(),
  // Only queries inside a traced operation: the relay's and the consumers' polling would
  // otherwise produce a root trace per poll.
  pg: () => new PgInstrumentation({ requireParentSpan: true }),
  amqplib: () => new AmqplibInstrumentation(),
  pino: () => new PinoInstrumentation({ disableLogSending: true }),
  // Node's global fetch (undici) does not go through node:http, so the http instrumentation never
  // sees it: the monolith's calls to the products and payments services (@banyan/http-client,
  // the payments door) would end the trace there. Like pg, only inside a traced operation: the
  // routing poll every process makes each second would otherwise start a root trace per poll
  // (without a parent it still sends no traceparent, exactly as before).
  undici: () => new UndiciInstrumentation({ requireParentforSpans: true }),
};

const names = (value: string | undefined) =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Every instrumentation, minus those the standard OTEL_NODE_DISABLED_INSTRUMENTATIONS lists (or
 * only those OTEL_NODE_ENABLED_INSTRUMENTATIONS lists), by the short names the OpenTelemetry Node
 * distribution uses. The gateway runs with `http` disabled: it traces its own hop (ADR 0208).
 */
export function instrumentationNamesFromEnv(env: NodeJS.ProcessEnv = process.env): Array<keyof typeof INSTRUMENTATIONS> {
  const all = Object.keys(INSTRUMENTATIONS) as Array<keyof typeof INSTRUMENTATIONS>;
  const enabled = names(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS);
  const disabled = names(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS) ?? [];
  return all.filter((name) => (!enabled || enabled.includes(name)) && !disabled.includes(name));
}

const instrumentationsFromEnv = (env: NodeJS.ProcessEnv) => instrumentationNamesFromEnv(env).map((name) => INSTRUMENTATIONS[name]());

let active: Telemetry | undefined;

/**
 * Starts OpenTelemetry for this process: http, express, pg, amqplib, pino and undici (fetch) instrumentations
 * (OTEL_NODE_DISABLED_INSTRUMENTATIONS / _ENABLED_ select among them),
 * W3C trace context, the standard OTEL_* environment. Call it before loading the modules it
 * instruments (or use the `@banyan/telemetry/register` preload, which does exactly that).
 * Starting twice returns the first instance: a process has one tracer provider.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (active) return active;
  const env = process.env;
  if (telemetryDisabled(env)) {
    active = { exporting: false, shutdown: async () => {} };
    return active;
  }
  const spanProcessors = options.spanProcessors ?? spanProcessorsFromEnv(env);
  const instrumentations = instrumentationsFromEnv(env);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || options.serviceName, 'service.namespace': 'banyan' }),
    spanProcessors,
    sampler: samplerFromEnv(env),
    // Metrics are prom-client's job (see metrics.ts) and logs go to stdout with trace ids; the
    // SDK's defaults would otherwise start OTLP metric and log exporters towards localhost:4318.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations,
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  active = {
    exporting: !spanProcessors.every((p) => p instanceof NoopSpanProcessor),
    // Unpatching too: a process that stops its telemetry (a test, a CLI command) gets its
    // modules back as they were instead of patched ones feeding a stopped provider.
    shutdown: () => (stopping ??= sdk.shutdown().finally(() => instrumentations.forEach((i) => i.disable()))),
  };
  return active;
}

/**
 * Flushes and stops the process's telemetry, if started. A graceful shutdown calls it last,
 * after in-flight requests and messages are done, so their spans are exported.
 */
export function shutdownTelemetry(): Promise<void> {
  return active?.shutdown() ?? Promise.resolve();
}
