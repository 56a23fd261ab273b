import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Domain, Mode, Side } from './domains';

type Timer = { observe(seconds: number): void };
type Count = { inc(): void };

/**
 * One registry per gateway instance (tests run several in one process). Label children are
 * cached by key so the hot path does a Map lookup instead of prom-client's label hashing.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'banyan_gateway_' });

  const requests = new Counter({
    name: 'banyan_gateway_requests_total',
    help: 'Requests answered, by domain, the side that answered, the mode and the status class.',
    labelNames: ['domain', 'side', 'mode', 'status'] as const,
    registers: [registry],
  });
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
  const latency = new Histogram({
    name: 'banyan_gateway_request_duration_seconds',
    help: 'From the request entering the gateway to the upstream response headers being sent on.',
    labelNames: ['domain', 'side', 'mode'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'banyan_gateway_rejected_requests_total',
    help: 'Requests refused before routing (path escapes, malformed targets, unknown prefixes).',
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
    help: 'Shadow comparisons by result: match, mismatch, error (the candidate did not answer), skipped (over the concurrency bound).',
    labelNames: ['domain', 'result'] as const,
    registers: [registry],
  });
  const shadowMatchRate = new Gauge({
    name: 'banyan_gateway_shadow_match_rate',
    help: 'Matches / comparisons since start, per domain (0–1).',
    labelNames: ['domain'] as const,
    registers: [registry],
  });
  const fences = new Counter({
    name: 'banyan_gateway_switch_fences_total',
    help: 'Write fences raised by a switch, by how they came down: settled, or timeout (the upper bound released held writes).',
    labelNames: ['domain', 'outcome'] as const,
    registers: [registry],
  });
  const fenceHeld = new Counter({
    name: 'banyan_gateway_switch_fence_held_requests_total',
    help: 'Unsafe requests held by a switch fence until the old side settled.',
    labelNames: ['domain'] as const,
    registers: [registry],
  });
  const tableVersion = new Gauge({
    name: 'banyan_gateway_route_table_version',
    help: 'The routing table version this instance serves.',
    registers: [registry],
  });

  const timers = new Map<string, Timer>();
  const counts = new Map<string, Count>();

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
    latency(domain: Domain, side: Side, mode: Mode): Timer {
      const key = `${domain}|${side}|${mode}`;
      let t = timers.get(key);
      if (!t) timers.set(key, (t = latency.labels(domain, side, mode)));
      return t;
    },
    request(domain: Domain, side: Side, mode: Mode, status: number): Count {
      const cls = status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';
      const key = `${domain}|${side}|${mode}|${cls}`;
      let c = counts.get(key);
      if (!c) counts.set(key, (c = requests.labels(domain, side, mode, cls)));
      return c;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
