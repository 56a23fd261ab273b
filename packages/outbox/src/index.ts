import { context, propagation } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { SchemaOwner } from '@banyan/db';
import { exchangeFor, type EventEnvelope } from '@banyan/events';
import { migrations } from './migrations';
export { outboxReport, type OutboxReport } from './report';

export const OUTBOX_SCHEMA = 'outbox';
export const OUTBOX_TABLE = `${OUTBOX_SCHEMA}.events`;
/**
 * NOTIFY channel the relay LISTENs on; fired once per inserting statement, delivered at commit.
 * The trigger names it as a literal (migrations.ts): renaming it takes a new migration.
 */
export const OUTBOX_CHANNEL = 'banyan_outbox';

/**
 * How many relay partitions aggregates are hashed into (leases are taken per partition). The lease
 * rows were made by a migration (migrations.ts): changing the count takes a new one.
 */
export const OUTBOX_PARTITIONS = 64;

/** Add this to the process's `migrate()` list; every process with an outbox owns this schema. */
export const outboxSchema: SchemaOwner = { schema: OUTBOX_SCHEMA, migrations };

export interface NewEvent<T = unknown> {
  /** Routing key, e.g. `order.created`. */
  type: string;
  /** The aggregate's id (the envelope's `subject`). */
  subject: string;
  data: T;
  /** Defaults to the exchange (below). */
  aggregateType?: string;
  /**
   * The exchange the relay publishes it on. Defaults to the catalog's exchange for the type
   * (`order.*` → `orders`, @banyan/events), else to `aggregateType`: a project whose event types
   * are not in the catalog names its aggregate and gets an exchange of that name.
   */
  exchange?: string;
  /** Set when the event re-applies a change made elsewhere (two-way sync); defaults to the outbox's origin. */
  origin?: string;
  /** Set when replaying another side's event so both sides share one sequence (two-way sync). */
  sequence?: number;
}

export interface Outbox {
  /** Write `event` in `trx`. It exists if and only if `trx` commits. */
  add<T>(trx: Knex.Transaction, event: NewEvent<T>): Promise<EventEnvelope<T>>;
}

/** Stable hash of an aggregate id into a relay partition (FNV-1a, so every language can repeat it). */
export function partitionOf(aggregateId: string, partitions = OUTBOX_PARTITIONS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < aggregateId.length; i++) {
    hash ^= aggregateId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

function exchangeOf(event: NewEvent): string {
  if (event.exchange) return event.exchange;
  try {
    return exchangeFor(event.type);
  } catch (err) {
    if (event.aggregateType) return event.aggregateType;
    throw err;
  }
}

export function createOutbox(options: { source: string; origin: string }): Outbox {
  return {
    async add<T>(trx: Knex.Transaction, event: NewEvent<T>): Promise<EventEnvelope<T>> {
      if (!trx.isTransaction) throw new Error('outbox.add needs the use case\'s transaction, not a plain connection');
      const exchange = exchangeOf(event);
      const aggregateType = event.aggregateType ?? exchange;
      const sequence = await nextSequence(trx, aggregateType, event.subject, event.sequence);
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      const envelope: EventEnvelope<T> = {
        specversion: '1.0',
        id: uuidv7(),
        source: options.source,
        type: event.type,
        subject: event.subject,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        sequence,
        origin: event.origin ?? options.origin,
        ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
        ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
        data: event.data,
      };
      await trx(OUTBOX_TABLE).insert({
        id: envelope.id,
        source: envelope.source,
        type: envelope.type,
        exchange,
        aggregate_type: aggregateType,
        aggregate_id: envelope.subject,
        sequence,
        partition: partitionOf(envelope.subject),
        origin: envelope.origin,
        time: envelope.time,
        data: JSON.stringify(envelope.data),
        traceparent: envelope.traceparent ?? null,
        tracestate: envelope.tracestate ?? null,
      });
      return envelope;
    },
  };
}

/**
 * Next number in the aggregate's history. The upsert locks the aggregate's row until commit, so
 * two transactions on one aggregate take their numbers in commit order: seen by any reader, event
 * n-1 is always committed before event n.
 */
async function nextSequence(trx: Knex.Transaction, aggregateType: string, aggregateId: string, forced?: number) {
  const { rows } = await trx.raw<{ rows: Array<{ last_sequence: string }> }>(
    `INSERT INTO outbox.aggregate_sequences (aggregate_type, aggregate_id, last_sequence)
     VALUES (?, ?, ?)
     ON CONFLICT (aggregate_type, aggregate_id)
     DO UPDATE SET last_sequence = GREATEST(outbox.aggregate_sequences.last_sequence + 1, EXCLUDED.last_sequence)
     RETURNING last_sequence`,
    [aggregateType, aggregateId, forced ?? 1],
  );
  return Number(rows[0].last_sequence);
}

/**
 * Two-way sync: after applying the other side's change to an aggregate, raise this side's
 * counter to that change's sequence, so this side's next own event numbers after it instead of
 * colliding with it (the other side would discard a lower or equal sequence as stale).
 * Takes several aggregates at once (a backfill batch); never lowers a counter.
 */
export async function continueSequences(
  trx: Knex.Transaction,
  aggregates: Array<{ aggregateType: string; aggregateId: string; sequence: number }>,
): Promise<void> {
  if (aggregates.length === 0) return;
  await trx.raw(
    `INSERT INTO outbox.aggregate_sequences (aggregate_type, aggregate_id, last_sequence)
     VALUES ${aggregates.map(() => '(?, ?, ?)').join(', ')}
     ON CONFLICT (aggregate_type, aggregate_id)
     DO UPDATE SET last_sequence = GREATEST(outbox.aggregate_sequences.last_sequence, EXCLUDED.last_sequence)`,
    aggregates.flatMap((a) => [a.aggregateType, a.aggregateId, a.sequence]),
  );
}

/** The envelope as the relay publishes it, rebuilt from a stored row. */
export function envelopeFromRow(row: OutboxRow): EventEnvelope {
  return {
    specversion: '1.0',
    id: row.id,
    source: row.source,
    type: row.type,
    subject: row.aggregate_id,
    time: new Date(row.time).toISOString(),
    datacontenttype: 'application/json',
    sequence: Number(row.sequence),
    origin: row.origin,
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
    ...(row.tracestate ? { tracestate: row.tracestate } : {}),
    data: row.data,
  };
}

export interface OutboxRow {
  position: string;
  id: string;
  source: string;
  type: string;
  exchange: string;
  aggregate_type: string;
  aggregate_id: string;
  sequence: string;
  partition: number;
  origin: string;
  time: Date | string;
  data: unknown;
  traceparent: string | null;
  tracestate: string | null;
  txid: string;
  created_at: Date;
  published_at: Date | null;
  attempts: number;
  last_error: string | null;
  parked_at: Date | null;
  next_attempt_at?: Date | null;
}
