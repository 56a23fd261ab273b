export { createLogger, REDACT_PATHS, type Logger } from './logger';
export { startTelemetry, shutdownTelemetry, spanProcessorsFromEnv, otlpTracesUrl, telemetryDisabled, type Telemetry, type TelemetryOptions } from './sdk';
export { withSpan, currentTraceId } from './spans';
export { collectProcessMetrics, httpMetrics, metricsHandler, promClient, type HttpMetricsOptions } from './metrics';
export { registerOnce, scrapedGauge, type ScrapedGauge } from './registry';
export { observeBreaker, type BreakerLike } from './breakers';
