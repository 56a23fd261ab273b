import { diag, DiagLogLevel } from '@opentelemetry/api';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import { currentTraceId, otlpTracesUrl, spanProcessorsFromEnv, startTelemetry, withSpan } from '../src';

describe('choosing the span processors from the environment', () => {
  test('without an OTLP endpoint there is no exporter, only a processor that drops spans', () => {
    const processors = spanProcessorsFromEnv({});
    expect(processors).toHaveLength(1);
    expect(processors[0]).toBeInstanceOf(NoopSpanProcessor);
  });

  test('with OTEL_EXPORTER_OTLP_ENDPOINT spans are batched to <endpoint>/v1/traces', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/' };
    expect(spanProcessorsFromEnv(env)[0]).toBeInstanceOf(BatchSpanProcessor);
    expect(otlpTracesUrl(env)).toBe('http://jaeger:4318/v1/traces');
  });

  test('the traces-specific endpoint is used as is, and OTEL_TRACES_EXPORTER=none wins over any endpoint', () => {
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces' })).toBe('http://b:4318/traces');
    expect(spanProcessorsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' })[0]).toBeInstanceOf(NoopSpanProcessor);
  });
});

test('started without an endpoint: no exporter, no error, and trace ids still exist for logs and propagation', async () => {
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const complaints: string[] = [];
  const record = (message: string) => void complaints.push(message);
  diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);

  const telemetry = startTelemetry({ serviceName: 'no-endpoint' });
  const traceId = await withSpan('work', {}, () => currentTraceId());
  await telemetry.shutdown();

  expect(telemetry.exporting).toBe(false);
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(complaints).toEqual([]);
});
