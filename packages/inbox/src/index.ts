import type { Knex } from 'knex';
import { deleteInChunks, type Migration, type SchemaOwner } from '@banyan/db';
import type { EventEnvelope } from '@banyan/events';

export const INBOX_SCHEMA = 'inbox';

const migrations: Migration[] = [
  {
    name: '001_inbox',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE inbox.processed (
          consumer text NOT NULL,
          event_id uuid NOT NULL,
          event_type text NOT NULL,
          subject text NOT NULL,
          sequence bigint NOT NULL,
          processed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (consumer, event_id)
        );
      `);
    },
  },
  {
    // The pruner finds old rows by processed_at, which is never updated: a BRIN index is enough.
    name: '002_processed_at',
    async up(knex) {
      await knex.raw(`CREATE INDEX processed_at_brin ON inbox.processed USING brin (processed_at)`);
    },
  },
];

/** Add this to the process's `migrate()` list; every process that consumes events owns this schema. */
export const inboxSchema: SchemaOwner = { schema: INBOX_SCHEMA, migrations };

export type Handler<T> = (event: EventEnvelope<T>, trx: Knex.Transaction) => Promise<void>;

export type InboxOutcome = 'processed' | 'duplicate';

/**
 * Apply `handler` to `event` at most once per consumer. The inbox row and the handler's effects
 * commit in one transaction, so a redelivery after a crash either finds the row (the effects are
 * there too: skip) or does not (nothing happened: apply). This is where at-least-once delivery
 * becomes exactly-once effects.
 */
export async function processOnce<T>(
  knex: Knex,
  consumer: string,
  event: EventEnvelope<T>,
  handler: Handler<T>,
): Promise<InboxOutcome> {
  return knex.transaction(async (trx) => {
    const inserted = await trx('inbox.processed')
      .insert({
        consumer,
        event_id: event.id,
        event_type: event.type,
        subject: event.subject,
        sequence: event.sequence,
      })
      .onConflict(['consumer', 'event_id'])
      .ignore()
      .returning('event_id');
    if (inserted.length === 0) return 'duplicate';
    await handler(event, trx);
    return 'processed';
  });
}

/**
 * A consumer's interest in one event type. The messaging layer turns it into the queue
 * `<consumer>.<eventType>` bound to the event's domain exchange, validates each payload against
 * the contract schema and calls `handle` through `processOnce`.
 */
export interface Subscription<T = any> {
  consumer: string;
  eventType: string;
  /**
   * The exchange the event type is published on, for types outside the catalog of @banyan/events
   * (which derives it from the type: `order.*` → `orders`); the same name the publisher's outbox
   * gave it (its `exchange`, else its `aggregateType`).
   */
  exchange?: string;
  handle: Handler<T>;
}

/**
 * Delete inbox rows older than `retentionMs`, a chunk at a time so no lock is held long. A row
 * is the memory that an event was applied: after it is gone, a redelivery of that event would be
 * applied again. So the retention must outlast any redelivery the system can produce: the broker
 * redelivers within seconds, a relay re-sends only rows it has not marked (minutes at most), so
 * days are a wide margin. Returns how many rows were deleted.
 */
export function pruneInbox(knex: Knex, retentionMs: number, chunk = 5_000): Promise<number> {
  return deleteInChunks(knex, 'inbox.processed', 'ctid', 'processed_at < clock_timestamp() - make_interval(secs => ?::float8 / 1000)', [retentionMs], chunk);
}

/** The two log calls the pruner makes (a pino logger fits). */
export interface PrunerLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface InboxPrunerOptions {
  knex: Knex;
  retentionMs: number;
  /** How often to prune; the first run is at start. Default one hour. */
  intervalMs?: number;
  /** Where a run that deleted rows, and a run that failed, are reported. */
  log?: PrunerLog;
  onPruned?: (deleted: number) => void;
}

/** Prune the process's inbox now and then every `intervalMs`; one per process (database), not per consumer. */
export function startInboxPruner(options: InboxPrunerOptions): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= pruneInbox(options.knex, options.retentionMs)
      .then(
        (deleted) => {
          if (deleted) options.log?.info({ deleted }, 'inbox rows past retention deleted');
          options.onPruned?.(deleted);
        },
        (err: Error) => options.log?.warn({ err: err.message }, 'inbox pruning failed; it runs again at the next interval'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, options.intervalMs ?? 3_600_000);
  // Housekeeping must never keep a process alive.
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
