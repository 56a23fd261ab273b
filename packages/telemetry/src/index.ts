export { createLogger, REDACT_PATHS, type Logger } from './logger';
export { startTelemetry, shutdownTelemetry, spanProcessorsFromEnv, otlpTracesUrl, type Telemetry, type TelemetryOptions } from './sdk';
export { withSpan, currentTraceId } from './spans';
export { httpMetrics, metricsHandler, promClient, type HttpMetricsOptions } from './metrics';
