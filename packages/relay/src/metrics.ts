import type { Knex } from '@banyan/db';
import { promClient, registerOnce, scrapedGauge } from '@banyan/telemetry';
import type { PublishResult } from './publisher';
import type { Relay } from './relay';
import type { RelayRow } from './store';

/** Seconds from an event's insert to the broker's confirm: milliseconds normally, minutes when the broker is away. */
const LAG_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const published = () =>
  registerOnce('banyan_relay_published_total', () => new promClient.Counter({
    name: 'banyan_relay_published_total',
    help: 'Events the broker confirmed, by event type (a repeat after a crash counts again).',
    labelNames: ['event_type'] as const,
  }));

const failures = () =>
  registerOnce('banyan_relay_publish_failures_total', () => new promClient.Counter({
    name: 'banyan_relay_publish_failures_total',
    help: 'Publishes not confirmed: returned (unroutable) and nacked count towards parking, transport (connection lost, confirm timeout) does not.',
    labelNames: ['kind'] as const,
  }));

const confirmLag = () =>
  registerOnce('banyan_relay_confirm_lag_seconds', () => new promClient.Histogram({
    name: 'banyan_relay_confirm_lag_seconds',
    help: "From the event's insert into the outbox to the broker's confirm of its publish (the relay's share of event latency).",
    buckets: LAG_BUCKETS,
  }));

/** Relays of this process, for the parked counter read at scrape time from their stats. */
const relays = new Set<() => Relay['stats'] | undefined>();

const parkedByRelay = () =>
  registerOnce('banyan_relay_parked_total', () => new promClient.Counter({
    name: 'banyan_relay_parked_total',
    help: 'Events the relays of this process parked after too many failed attempts (they wait for `banyan outbox --unpark`).',
    collect() {
      // Parking is decided while marking, after the afterConfirm hook: read it from the stats.
      this.reset();
      this.inc([...relays].reduce((sum, stats) => sum + (stats()?.parked ?? 0), 0));
    },
  }));

const outboxGauges = {
  backlog: () => scrapedGauge('banyan_outbox_backlog', 'Committed events not yet published (parked ones excluded), per database.', ['database'] as const),
  oldest: () => scrapedGauge('banyan_outbox_oldest_unpublished_age_seconds', 'Age of the oldest committed, unpublished, unparked event (0 when none), per database.', ['database'] as const),
  parked: () => scrapedGauge('banyan_outbox_parked', 'Parked events (their aggregate is blocked until an operator acts), per database.', ['database'] as const),
  up: () => scrapedGauge('banyan_outbox_up', '1 when the outbox could be read at this scrape, 0 when the query failed or timed out.', ['database'] as const),
};

/**
 * Every part walks `outbox.unpublished` (the rows left to publish, ADR 0108) and fetches those
 * events by primary key (a lookup the planner cannot turn into a merge join over the whole
 * table), so a scrape costs the backlog, never a scan of the retained published rows. Ages are computed by PostgreSQL, from its own clock, like created_at.
 */
const OUTBOX_STATE_SQL = `
  SELECT count(*) FILTER (WHERE e.parked_at IS NULL) AS backlog,
         COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(e.created_at) FILTER (WHERE e.parked_at IS NULL)), 0) AS oldest_seconds,
         count(*) FILTER (WHERE e.parked_at IS NOT NULL) AS parked
    FROM outbox.unpublished u
   CROSS JOIN LATERAL (SELECT * FROM outbox.events WHERE position = u.position OFFSET 0) e
   WHERE e.published_at IS NULL`;

/**
 * Outbox backlog, oldest unpublished age and parked count of `database`, read at each scrape with
 * one query under a short statement timeout (a slow database must not hang the scrape). Returns
 * the function that stops reporting it.
 */
export function observeOutbox(knex: Knex, database: string, timeoutMs = 2_000): () => void {
  let pending: Promise<{ backlog: number; oldest: number; parked: number } | undefined> | undefined;
  // Four gauges, one query: the first gauge collected starts it, the others share its answer.
  const read = () =>
    (pending ??= knex
      .transaction(async (trx) => {
        await trx.raw(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
        const { rows } = await trx.raw<{ rows: Array<{ backlog: string; oldest_seconds: string; parked: string }> }>(OUTBOX_STATE_SQL);
        return { backlog: Number(rows[0].backlog), oldest: Number(rows[0].oldest_seconds), parked: Number(rows[0].parked) };
      })
      .catch(() => undefined)
      .finally(() => setImmediate(() => (pending = undefined))));
  const labels = { database };
  const removers = [
    outboxGauges.backlog().add(database, async (set) => {
      const s = await read();
      if (s) set(labels, s.backlog);
    }),
    outboxGauges.oldest().add(database, async (set) => {
      const s = await read();
      if (s) set(labels, s.oldest);
    }),
    outboxGauges.parked().add(database, async (set) => {
      const s = await read();
      if (s) set(labels, s.parked);
    }),
    outboxGauges.up().add(database, async (set) => set(labels, (await read()) ? 1 : 0)),
  ];
  return () => removers.forEach((remove) => remove());
}

/**
 * The relay's own metrics, fed from its `afterConfirm` hook (a batch's rows and results, after
 * the confirms and before marking) and its stats. `afterConfirm` goes into createRelay's options;
 * `close` stops counting the relay's parked events.
 */
export function relayMetrics(stats: () => Relay['stats'] | undefined) {
  const p = published();
  const f = failures();
  const lag = confirmLag();
  parkedByRelay();
  relays.add(stats);
  return { afterConfirm, close: () => void relays.delete(stats) };

  function afterConfirm(rows: RelayRow[], results: PublishResult[]) {
    const now = Date.now();
    rows.forEach((row, i) => {
      const result = results[i];
      if (result.ok) {
        p.inc({ event_type: row.type });
        // created_at comes from the database's clock: a skew between the two hosts shifts this
        // histogram (by the skew); on one host or with NTP it is the relay's real contribution.
        lag.observe(Math.max(0, (now - new Date(row.created_at).getTime()) / 1000));
      } else f.inc({ kind: result.kind });
    });
  }
}
