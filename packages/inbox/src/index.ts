import type { Knex } from 'knex';
import type { Migration, SchemaOwner } from '@banyan/db';
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
  handle: Handler<T>;
}
