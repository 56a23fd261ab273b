import type { Domain, Side } from '../domains';
import type { Metrics } from '../metrics';
import { quantileMs, snapshots, type Snapshot } from '../ramp/gates';

/** One sample interval of one domain, as the dashboard's charts draw it. */
export interface HistoryPoint {
  /** The end of the interval (ms since the epoch). */
  at: number;
  requests: number;
  /** Of the requests answered, the share the extracted side answered (0–1); null with none. */
  extractedShare: number | null;
  /** Failed attempts / attempts per side (as the ramp's error gate counts them). */
  errorRate: Record<Side, number | null>;
  p50Ms: Record<Side, number | null>;
  p99Ms: Record<Side, number | null>;
  /** Shadow matches / comparisons in the interval; null when nothing was compared. */
  matchRate: number | null;
}

/** An hour of charts. */
export const HISTORY_MS = 3_600_000;

const SIDES: Side[] = ['monolith', 'extracted'];
const rate = (n: number, of: number) => (of > 0 ? Math.min(1, n / of) : null);

function pointOf(at: number, before: Snapshot, after: Snapshot): HistoryPoint {
  const delta = (side: Side, k: 'requests' | 'failures') => after.sides[side][k] - before.sides[side][k];
  const requests = delta('monolith', 'requests') + delta('extracted', 'requests');
  const matched = after.shadow.match - before.shadow.match;
  const compared = matched + after.shadow.mismatch - before.shadow.mismatch;
  const perSide = <T>(f: (side: Side) => T) => Object.fromEntries(SIDES.map((s) => [s, f(s)])) as Record<Side, T>;
  return {
    at,
    requests,
    extractedShare: rate(delta('extracted', 'requests'), requests),
    errorRate: perSide((s) => rate(delta(s, 'failures'), delta(s, 'requests'))),
    p50Ms: perSide((s) => quantileMs(0.5, before.sides[s].buckets, after.sides[s].buckets)),
    p99Ms: perSide((s) => quantileMs(0.99, before.sides[s].buckets, after.sides[s].buckets)),
    matchRate: rate(matched, compared),
  };
}

/**
 * The last hour per domain, sampled every `sampleMs` from the counters the requests already add
 * to (no per-request work): each sample is the difference with the previous one. Kept in memory:
 * a restarted gateway's charts start empty, as its counters do.
 */
export function createHistory(metrics: Metrics, domains: readonly Domain[], sampleMs: number) {
  const points = new Map<Domain, HistoryPoint[]>(domains.map((d) => [d, []]));
  const last = new Map<Domain, Snapshot>();
  let timer: NodeJS.Timeout | undefined;

  const sample = async () => {
    const now = Date.now();
    // One reading of each metric for every domain: prom-client builds each metric's values anew per get().
    const read = await snapshots(metrics, domains);
    for (const domain of domains) {
      const next = read.get(domain)!;
      const previous = last.get(domain);
      last.set(domain, next);
      if (!previous) continue;
      const series = points.get(domain)!;
      series.push(pointOf(now, previous, next));
      while (series.length && series[0].at < now - HISTORY_MS) series.shift();
    }
  };

  return {
    series: (domain: Domain): readonly HistoryPoint[] => points.get(domain) ?? [],
    sampleMs,
    start(): void {
      // A failed read of the counters skips one sample; the next interval reads them again.
      const tick = () => void sample().catch(() => undefined);
      tick();
      timer = setInterval(tick, sampleMs);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
    },
  };
}

export type History = ReturnType<typeof createHistory>;
