import type { InboxOutcome } from '@banyan/inbox';
import { promClient, registerOnce } from '@banyan/telemetry';

/** Seconds a message's handling takes (inbox transaction included): a few ms to seconds. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Per-queue consumer metrics in the default registry, shared by every consumer group of the
 * process (the monolith runs one per module). Labels are queue names and fixed words only: their
 * number is bounded by the subscriptions.
 */
export function consumerMetrics() {
  const processed = registerOnce('banyan_consumer_processed_total', () => new promClient.Counter({
    name: 'banyan_consumer_processed_total',
    help: "Messages whose handling committed, by queue and inbox outcome (processed, or duplicate: applied before, ignored).",
    labelNames: ['queue', 'outcome'] as const,
  }));
  const redelivered = registerOnce('banyan_consumer_redelivered_total', () => new promClient.Counter({
    name: 'banyan_consumer_redelivered_total',
    help: 'Messages the broker delivered again because an earlier delivery was never acknowledged (a consumer died or lost its channel).',
    labelNames: ['queue'] as const,
  }));
  const retried = registerOnce('banyan_consumer_retried_total', () => new promClient.Counter({
    name: 'banyan_consumer_retried_total',
    help: 'Messages whose handler failed and that were sent to a retry delay queue.',
    labelNames: ['queue'] as const,
  }));
  const deadLettered = registerOnce('banyan_consumer_dead_lettered_total', () => new promClient.Counter({
    name: 'banyan_consumer_dead_lettered_total',
    help: 'Messages moved to <queue>.dlq: invalid (not JSON, bad envelope or data) or exhausted (handler failed every attempt).',
    labelNames: ['queue', 'reason'] as const,
  }));
  const duration = registerOnce('banyan_consumer_process_duration_seconds', () => new promClient.Histogram({
    name: 'banyan_consumer_process_duration_seconds',
    help: 'Time from taking a valid message to its outcome (inbox transaction and handler), by queue and result.',
    labelNames: ['queue', 'result'] as const,
    buckets: DURATION_BUCKETS,
  }));

  return {
    /** At delivery: returns the stopwatch of this message's handling. */
    received(queue: string, redelivery: boolean) {
      if (redelivery) redelivered.inc({ queue });
      return duration.startTimer({ queue });
    },
    processed(queue: string, outcome: InboxOutcome, stop: (labels: { result: string }) => void) {
      processed.inc({ queue, outcome });
      stop({ result: 'ok' });
    },
    /** The handler threw: what happens next (retry or dead letter) is counted on its own. */
    failed(stop: (labels: { result: string }) => void) {
      stop({ result: 'error' });
    },
    retried: (queue: string) => retried.inc({ queue }),
    deadLettered: (queue: string, reason: 'invalid' | 'exhausted') => deadLettered.inc({ queue, reason }),
  };
}
