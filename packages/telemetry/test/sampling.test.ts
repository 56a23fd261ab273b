import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { DEFAULT_SAMPLE_RATIO, UNTRACED_AGENT, instrumentationNamesFromEnv, samplerFromEnv } from '../src/sdk';

describe('Default sampling (ADR 0402)', () => {
  test('With OTEL_TRACES_SAMPLER unset, new traces are kept at the default ratio and a caller’s decision is followed', () => {
    const sampler = samplerFromEnv({});
    expect(DEFAULT_SAMPLE_RATIO).toBe(0.1);
    expect(sampler).toBeInstanceOf(ParentBasedSampler);
    expect(sampler!.toString()).toBe(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }).toString());
  });

  test('OTEL_TRACES_SAMPLER overrides the default the standard way (the SDK builds it from the variables)', () => {
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' })).toBeUndefined();
  });

  test('OTEL_TRACES_SAMPLER_ARG alone sets the default’s ratio; an invalid one is ignored', () => {
    const ratio = (arg: string) => samplerFromEnv({ OTEL_TRACES_SAMPLER_ARG: arg })!.toString();
    expect(ratio('1')).toBe(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }).toString());
    expect(ratio('2')).toBe(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }).toString());
    expect(ratio('x')).toBe(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }).toString());
  });
});

describe('Instrumentation selection', () => {
  test('All by default; OTEL_NODE_DISABLED_INSTRUMENTATIONS removes some, OTEL_NODE_ENABLED_INSTRUMENTATIONS keeps only some', () => {
    expect(instrumentationNamesFromEnv({})).toEqual(['http', 'express', 'pg', 'amqplib', 'pino', 'undici']);
    expect(instrumentationNamesFromEnv({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http' })).toEqual(['express', 'pg', 'amqplib', 'pino', 'undici']);
    expect(instrumentationNamesFromEnv({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'undici,amqplib' })).toEqual(['http', 'express', 'pg', 'pino']);
    expect(instrumentationNamesFromEnv({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http, pg', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' })).toEqual(['http']);
  });

  test('The untraced-agent marker is a registered symbol, usable without importing this package', () => {
    expect(UNTRACED_AGENT).toBe(Symbol.for('banyan.telemetry.untraced-agent'));
  });
});
