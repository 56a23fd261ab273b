import type { Mode, Side } from '../domains';
import type { Metrics } from '../metrics';
import { keyLabels } from '../rules';

/** A ramp's thresholds (docs/gateway.md#ramp lists the defaults and the CLI's flags). */
export interface Thresholds {
  /** The new side's failure rate may exceed the old side's by at most this (0.01: one point). */
  maxErrorRate: number;
  /** The new side's p99 may be at most this many times the old side's… */
  maxP99Ratio: number;
  /** …and is never failed below this many ms (the histogram's buckets are coarse). */
  p99FloorMs: number;
  /** While shadowing: mismatches / comparisons. */
  maxMismatchRate: number;
  /** The reading side's sync lag behind the writer. */
  maxLagMs: number;
  /** A step passes only after the new side answered (or shadowing compared) this many requests; rates are judged from then on. */
  minRequests: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { maxErrorRate: 0.01, maxP99Ratio: 2, p99FloorMs: 100, maxMismatchRate: 0.01, maxLagMs: 5_000, minRequests: 20 };

interface SideCounts {
  /** Attempts on this side: its answers, plus the reads it failed that the monolith then answered. */
  requests: number;
  failures: number;
  /** Cumulative histogram counts by upper bound (seconds; Infinity last). */
  buckets: Map<number, number>;
}

/** The gateway's own counters for one routing key at one moment: read, never added to (no per-request cost). */
export interface Snapshot {
  sides: Record<Side, SideCounts>;
  shadow: { match: number; mismatch: number; error: number };
}

export interface SideFigures {
  requests: number;
  failures: number;
  errorRate: number | null;
  p99Ms: number | null;
}

export interface GateFigures {
  seconds: number;
  new: SideFigures;
  old: SideFigures;
  shadow?: { compared: number; mismatches: number; errors: number; mismatchRate: number | null };
  lagMs?: number | null;
}

export interface GateVerdict {
  figures: GateFigures;
  /** One sentence per failed gate; empty when all pass. */
  failed: string[];
  /** Enough traffic was seen for the step to pass. */
  enough: boolean;
}

const empty = (): SideCounts => ({ requests: 0, failures: 0, buckets: new Map() });

/**
 * Read the counters of `key` (a domain: every series of it; a route rule: its own series). For a
 * domain, a side's failures are the gateway's upstream failures there (a read the service failed
 * and the monolith answered still counts against the service); a rule's are its 5xx answers, since
 * the failure and fallback counters carry no rule.
 */
export async function snapshot(metrics: Metrics, key: string): Promise<Snapshot> {
  return (await snapshots(metrics, [key])).get(key)!;
}

/** `snapshot` of several keys from one reading of each metric (the dashboard samples every domain at once). */
export async function snapshots(metrics: Metrics, keys: readonly string[]): Promise<Map<string, Snapshot>> {
  const [requests, errors, fallbacks, histogram, shadows] = await Promise.all([
    metrics.requestsCounter.get(),
    metrics.errors.get(),
    metrics.fallbacks.get(),
    metrics.registry.getSingleMetric('banyan_gateway_request_duration_seconds')?.get(),
    metrics.shadowComparisons.get(),
  ]);
  const out = new Map<string, Snapshot>();
  for (const key of keys) {
    const { domain, rule } = keyLabels(key);
    const ours = (labels: Record<string, unknown>) => labels.domain === domain && (!rule || labels.rule === rule);
    const sides: Record<Side, SideCounts> = { monolith: empty(), extracted: empty() };
    for (const v of requests.values) {
      if (!ours(v.labels)) continue;
      const side = sides[v.labels.side as Side];
      side.requests += v.value;
      if (rule && v.labels.status === '5xx') side.failures += v.value;
    }
    if (!rule) {
      for (const v of errors.values) if (v.labels.domain === domain) sides[v.labels.side as Side].failures += v.value;
      for (const v of fallbacks.values) if (v.labels.domain === domain) sides.extracted.requests += v.value;
    }
    for (const v of histogram?.values ?? []) {
      if (!(v as { metricName?: string }).metricName?.endsWith('_bucket') || !ours(v.labels)) continue;
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      const buckets = sides[v.labels.side as Side].buckets;
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
    const shadow = { match: 0, mismatch: 0, error: 0 };
    for (const v of shadows.values) {
      const result = v.labels.result as keyof typeof shadow;
      if (ours(v.labels) && result in shadow) shadow[result] += v.value;
    }
    out.set(key, { sides, shadow });
  }
  return out;
}

/** A snapshot as JSON (an instance's report in gateway.ramp_counters): a bucket's bound `+Inf` for Infinity. */
export type SnapshotJson = {
  sides: Record<Side, { requests: number; failures: number; buckets: Array<[number | '+Inf', number]> }>;
  shadow: Snapshot['shadow'];
};

const sideJson = (c: SideCounts) => ({ requests: c.requests, failures: c.failures, buckets: [...c.buckets].map(([le, n]): [number | '+Inf', number] => [le === Infinity ? '+Inf' : le, n]) });

/** Nothing counted yet: the base of a process that started after its step did. */
export const NOTHING: SnapshotJson = { sides: { monolith: { requests: 0, failures: 0, buckets: [] }, extracted: { requests: 0, failures: 0, buckets: [] } }, shadow: { match: 0, mismatch: 0, error: 0 } };

export const snapshotToJson = (s: Snapshot): SnapshotJson => ({ sides: { monolith: sideJson(s.sides.monolith), extracted: sideJson(s.sides.extracted) }, shadow: { ...s.shadow } });

/**
 * The fleet's counters: the sum of several instances' snapshots (as Prometheus sums a counter's
 * series across instances; a histogram's buckets add the same way, so its quantile stays right).
 */
export function sumSnapshots(parts: SnapshotJson[]): Snapshot {
  const sides: Record<Side, SideCounts> = { monolith: empty(), extracted: empty() };
  const shadow = { match: 0, mismatch: 0, error: 0 };
  for (const part of parts) {
    for (const side of ['monolith', 'extracted'] as const) {
      const into = sides[side];
      into.requests += part.sides[side].requests;
      into.failures += part.sides[side].failures;
      for (const [le, n] of part.sides[side].buckets) {
        const bound = le === '+Inf' ? Infinity : le;
        into.buckets.set(bound, (into.buckets.get(bound) ?? 0) + n);
      }
    }
    shadow.match += part.shadow.match;
    shadow.mismatch += part.shadow.mismatch;
    shadow.error += part.shadow.error;
  }
  return { sides, shadow };
}

/** The `q` quantile (ms) of the answers between two cumulative histograms, interpolated inside its bucket as Prometheus' histogram_quantile does. */
export function quantileMs(q: number, before: Map<number, number>, after: Map<number, number>): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const cumulative = (after.get(le) ?? 0) - (before.get(le) ?? 0);
    if (cumulative >= rank) {
      if (le === Infinity) return lower * 1000;
      const within = cumulative - below;
      return (lower + ((le - lower) * (rank - below)) / (within || 1)) * 1000;
    }
    lower = le;
    below = cumulative;
  }
  return lower * 1000;
}

function sideFigures(before: SideCounts, after: SideCounts): SideFigures {
  const requests = after.requests - before.requests;
  const failures = after.failures - before.failures;
  return { requests, failures, errorRate: requests > 0 ? Math.min(1, failures / requests) : null, p99Ms: quantileMs(0.99, before.buckets, after.buckets) };
}

const pct = (rate: number | null) => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`);
const msOf = (ms: number | null) => (ms === null ? 'n/a' : `${Math.round(ms)} ms`);

/**
 * The gates of one step over the window from `before` to `after`, the new side (extracted) against
 * the old (monolith), as Flagger's canary analysis does with its metric checks: the failure rate,
 * the p99 latency, the shadow mismatch rate while shadowing, and the sync lag. Rates are judged
 * only once `minRequests` were seen, so one early error among three requests fails nothing.
 */
export function evaluate(before: Snapshot, after: Snapshot, seconds: number, mode: Mode, t: Thresholds, lagMs?: number | null): GateVerdict {
  const next = sideFigures(before.sides.extracted, after.sides.extracted);
  const old = sideFigures(before.sides.monolith, after.sides.monolith);
  const failed: string[] = [];
  const oldCounts = old.requests >= t.minRequests;
  if (next.requests >= t.minRequests) {
    const oldRate = oldCounts ? (old.errorRate ?? 0) : 0;
    if ((next.errorRate ?? 0) > oldRate + t.maxErrorRate) {
      failed.push(`error rate: the new side failed ${next.failures} of ${next.requests} (${pct(next.errorRate)}), over the old side's ${pct(oldRate)} + ${pct(t.maxErrorRate)}`);
    }
    const limit = Math.max(t.p99FloorMs, oldCounts && old.p99Ms !== null ? old.p99Ms * t.maxP99Ratio : 0);
    if (next.p99Ms !== null && next.p99Ms > limit) {
      failed.push(`p99 latency: the new side's ${msOf(next.p99Ms)} is over ${msOf(limit)} (old side ${msOf(old.p99Ms)} × ${t.maxP99Ratio}, at least ${t.p99FloorMs} ms)`);
    }
  }
  const figures: GateFigures = { seconds, new: next, old };
  let enough = next.requests >= t.minRequests;
  if (mode === 'shadow') {
    const mismatches = after.shadow.mismatch - before.shadow.mismatch;
    const compared = after.shadow.match - before.shadow.match + mismatches;
    const errors = after.shadow.error - before.shadow.error;
    const mismatchRate = compared > 0 ? mismatches / compared : null;
    figures.shadow = { compared, mismatches, errors, mismatchRate };
    enough = compared >= t.minRequests;
    if (enough && (mismatchRate ?? 0) > t.maxMismatchRate) {
      failed.push(`shadow mismatch rate: ${mismatches} of ${compared} compared answers differ (${pct(mismatchRate)}), over ${pct(t.maxMismatchRate)}`);
    }
    if (compared + errors >= t.minRequests && errors / (compared + errors) > t.maxErrorRate) {
      failed.push(`shadow errors: the new side failed ${errors} of ${compared + errors} shadowed requests, over ${pct(t.maxErrorRate)}`);
    }
  }
  if (lagMs !== undefined) {
    figures.lagMs = lagMs;
    if (lagMs !== null && lagMs > t.maxLagMs) failed.push(`sync lag: ${msOf(lagMs)} behind, over ${t.maxLagMs} ms`);
  }
  return { figures, failed, enough };
}
