import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric, type MetricValue } from 'prom-client';
import type { Domain, Mode, Side } from './domains';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

/** What every answered request of one domain/side/mode adds to: the latency histogram and the status counts. */
interface Answered {
  labels: { domain: Domain; side: Side; mode: Mode; rule?: string };
  /** Per bucket (not cumulative), the last one +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
  /** Answers by status class not yet added to the prom-client counter (folded in when it is read). */
  pending: number[];
}

/**
 * One registry per gateway instance (tests run several in one process).
 *
 * The two metrics every request touches are counted in plain numbers and handed to prom-client
 * only when read (ADR 0209): a labelled prom-client child re-validates and re-hashes its labels on
 * every `inc` and `observe`, which measured 2–4 µs per request, more than the routing decision.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'banyan_gateway_' });

  const answered = new Map<string, Answered>();
  const requests = new Counter({
    name: 'banyan_gateway_requests_total',
    help: 'Requests answered, by domain, the side that answered, the mode, the status class and the route rule that decided ("" for the domain\'s row).',
    // `rule` is bounded: rules are declared (ADR 0213), never taken from a request.
    labelNames: ['domain', 'side', 'mode', 'status', 'rule'] as const,
    registers: [registry],
    collect() {
      for (const a of answered.values()) {
        for (let i = 0; i < STATUS_CLASSES.length; i++) {
          if (a.pending[i] === 0) continue;
          this.inc({ ...a.labels, status: STATUS_CLASSES[i] }, a.pending[i]);
          a.pending[i] = 0;
        }
      }
    },
  });
  registry.registerMetric(latencyHistogram(answered));
  const errors = new Counter({
    name: 'banyan_gateway_upstream_errors_total',
    help: 'Upstream failures: timeout, connect (refused/reset), status (5xx), open (breaker open).',
    labelNames: ['domain', 'side', 'mode', 'kind'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'banyan_gateway_fallbacks_total',
    help: 'Safe requests the monolith answered because the extracted side failed or its breaker was open.',
    labelNames: ['domain', 'reason'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'banyan_gateway_rejected_requests_total',
    help: 'Requests refused before routing (path escapes, malformed targets, unknown prefixes, bad framing, bodies too large or too slow) and connections over the per-client cap (status="connection-cap").',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: 'banyan_gateway_breaker_state',
    help: 'Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });
  const shadowComparisons = new Counter({
    name: 'banyan_gateway_shadow_comparisons_total',
    help: 'Shadow comparisons by result: match, mismatch, error (the candidate did not answer), skipped (over the concurrency bound); a route rule\'s carry its `rule`.',
    labelNames: ['domain', 'result', 'rule'] as const,
    registers: [registry],
  });
  const shadowMatchRate = new Gauge({
    name: 'banyan_gateway_shadow_match_rate',
    help: 'Matches / comparisons since start, per domain and route rule (0–1).',
    labelNames: ['domain', 'rule'] as const,
    registers: [registry],
  });
  const fences = new Counter({
    name: 'banyan_gateway_switch_fences_total',
    help: 'Write fences raised by a switch, by how they came down: settled, or timeout (the upper bound released held writes).',
    labelNames: ['domain', 'outcome', 'rule'] as const,
    registers: [registry],
  });
  const fenceHeld = new Counter({
    name: 'banyan_gateway_switch_fence_held_requests_total',
    help: 'Unsafe requests held by a switch fence until the old side settled.',
    labelNames: ['domain', 'rule'] as const,
    registers: [registry],
  });
  const tableVersion = new Gauge({
    name: 'banyan_gateway_route_table_version',
    help: 'The routing table version this instance serves.',
    registers: [registry],
  });

  return {
    registry,
    /** The counter behind `request()`, for the dashboard's rates (read, never incremented, there). */
    requestsCounter: requests,
    errors,
    fallbacks,
    rejected,
    breakerState,
    shadowComparisons,
    shadowMatchRate,
    fences,
    fenceHeld,
    tableVersion,
    /** One request answered: its status class counted, its duration (seconds) in the histogram. */
    answered(domain: Domain, side: Side, mode: Mode, status: number, seconds: number, rule = ''): void {
      const key = rule ? `${domain}|${side}|${mode}|${rule}` : `${domain}|${side}|${mode}`;
      let a = answered.get(key);
      if (!a) {
        a = { labels: rule ? { domain, side, mode, rule } : { domain, side, mode }, buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0, pending: [0, 0, 0, 0] };
        answered.set(key, a);
      }
      a.pending[status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0]++;
      let b = 0;
      while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) b++;
      a.buckets[b]++;
      a.sum += seconds;
      a.count++;
    },
  };
}

/**
 * `banyan_gateway_request_duration_seconds` as a prom-client collector over the plain counts:
 * the exposition (cumulative `le` buckets, `_sum`, `_count`) is what a prom-client Histogram with
 * the same buckets prints.
 */
function latencyHistogram(answered: Map<string, Answered>): Metric {
  const name = 'banyan_gateway_request_duration_seconds';
  const help = 'From the request entering the gateway to the upstream response headers being sent on.';
  const get = async () => {
    const values: MetricValue<string>[] = [];
    for (const a of answered.values()) {
      let cumulative = 0;
      for (let b = 0; b <= LATENCY_BUCKETS.length; b++) {
        cumulative += a.buckets[b];
        values.push({ metricName: `${name}_bucket`, labels: { le: b < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[b] : '+Inf', ...a.labels }, value: cumulative } as MetricValue<string>);
      }
      values.push({ metricName: `${name}_sum`, labels: { ...a.labels }, value: a.sum } as MetricValue<string>);
      values.push({ metricName: `${name}_count`, labels: { ...a.labels }, value: a.count } as MetricValue<string>);
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
  const reset = () => {
    for (const a of answered.values()) {
      a.buckets.fill(0);
      a.sum = 0;
      a.count = 0;
    }
  };
  return { name, help, type: 'histogram', aggregator: 'sum', get, reset } as unknown as Metric;
}

export type Metrics = ReturnType<typeof createMetrics>;
