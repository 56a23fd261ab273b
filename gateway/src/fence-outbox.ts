import { createKnex, type Knex } from '@banyan/db';
import type { GatewayConfig } from './config';
import { connectionFor, sideDatabase, syncSpecOf } from './dashboard/databases';
import { readOnly } from './dashboard/outbox';
import type { Domain, Side } from './domains';
import type { Topology } from './topology';

/** An aggregate as one map key; ids are UUIDs, and no id or type holds a NUL. */
const SEPARATOR = '\u0000';
const keyOf = (aggregateType: string, aggregateId: string) => `${aggregateType}${SEPARATOR}${aggregateId}`;

/** How far one side's sync consumer is behind the other side's writes. */
export interface SyncLag {
  /** The age of the oldest event not yet published, or published but not yet applied; 0 when none. */
  seconds: number;
  unpublished: number;
  unapplied: number;
}

/** Missing database, schema or table: nothing there can be waiting to be published. */
const ABSENT = new Set(['3D000', '3F000', '42P01']);

/**
 * The fence's questions to the two sides' outboxes: does the old side still hold unpublished
 * events of the domain's aggregates, and has the new side applied the ones it published?
 * Read-only sessions, like the dashboard's outbox report; one small pool per database, opened at
 * the first switch. Domains without a sync spec (never extracted) have nothing to ask: drained,
 * and `applied` cannot tell, so the fence relies on its settle period.
 */
export function createOutboxDrainCheck(config: GatewayConfig, topology: Topology) {
  const pools = new Map<string, Knex>();
  const pool = (database: string) => {
    let knex = pools.get(database);
    if (!knex) pools.set(database, (knex = createKnex(readOnly(connectionFor(config, database)), { max: 1, quiet: true })));
    return knex;
  };

  const unpublished = async (database: string, aggregateTypes: string[]): Promise<number> => {
    try {
      const { rows } = await pool(database).raw<{ rows: Array<{ n: string }> }>(
        // The rows left to publish are `outbox.unpublished` (ADR 0108); each is looked up by key,
        // so a switch's drain check costs the backlog, not a scan of the retained published rows.
        `SELECT count(*) AS n FROM outbox.unpublished u
          CROSS JOIN LATERAL (SELECT published_at, parked_at, aggregate_type FROM outbox.events WHERE position = u.position OFFSET 0) e
          WHERE e.published_at IS NULL AND e.parked_at IS NULL AND e.aggregate_type = ANY(?)`,
        [aggregateTypes],
      );
      return Number(rows[0].n);
    } catch (err) {
      if (ABSENT.has((err as { code?: string }).code ?? '')) return 0;
      throw err;
    }
  };

  /**
   * The latest sequence each aggregate reached in the events `database` wrote in the last
   * `seconds` and published. The window is measured on the database's clock (created_at is its
   * clock_timestamp()), so a gateway whose clock differs asks about the same rows; the BRIN
   * index on created_at keeps it to the window's pages.
   */
  const writtenWithin = async (database: string, aggregateTypes: string[], seconds: number): Promise<Map<string, number>> => {
    try {
      const { rows } = await pool(database).raw<{ rows: Array<{ aggregate_type: string; aggregate_id: string; sequence: string }> }>(
        `SELECT aggregate_type, aggregate_id, max(sequence) AS sequence FROM outbox.events
          WHERE created_at >= now() - make_interval(secs => ?) AND published_at IS NOT NULL AND aggregate_type = ANY(?)
          GROUP BY aggregate_type, aggregate_id`,
        [seconds, aggregateTypes],
      );
      return new Map(rows.map((r) => [keyOf(r.aggregate_type, r.aggregate_id), Number(r.sequence)]));
    } catch (err) {
      if (ABSENT.has((err as { code?: string }).code ?? '')) return new Map();
      throw err;
    }
  };

  /**
   * How far `database`'s own numbering has come for these aggregates. A sync consumer raises it
   * in the transaction that applies the other side's change (continueSequences), so a counter at
   * or past an event's sequence means that event, or a newer write, is applied there.
   */
  const counters = async (database: string, keys: string[]): Promise<Map<string, number> | undefined> => {
    const pairs = keys.map((k) => k.split(SEPARATOR, 2) as [string, string]);
    try {
      const { rows } = await pool(database).raw<{ rows: Array<{ aggregate_type: string; aggregate_id: string; last_sequence: string }> }>(
        `SELECT s.aggregate_type, s.aggregate_id, s.last_sequence FROM outbox.aggregate_sequences s
          JOIN unnest(?::text[], ?::text[]) AS k(aggregate_type, aggregate_id) USING (aggregate_type, aggregate_id)`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      );
      return new Map(rows.map((r) => [keyOf(r.aggregate_type, r.aggregate_id), Number(r.last_sequence)]));
    } catch (err) {
      if (ABSENT.has((err as { code?: string }).code ?? '')) return undefined;
      throw err;
    }
  };

  const aggregateTypesOf = (domain: Domain) => {
    const spec = syncSpecOf(topology, domain);
    const types = spec ? [...new Set(spec.tables.map((t) => t.aggregateType).filter((t): t is string => !!t))] : [];
    return spec && types.length > 0 ? { spec, types } : undefined;
  };

  /** The unpublished events of `database` for these aggregate types: how many, and the oldest's age in seconds. */
  const backlog = async (database: string, aggregateTypes: string[]): Promise<{ n: number; age: number }> => {
    try {
      const { rows } = await pool(database).raw<{ rows: Array<{ n: string; age: string | null }> }>(
        `SELECT count(*) AS n, extract(epoch FROM now() - min(e.created_at)) AS age FROM outbox.unpublished u
          CROSS JOIN LATERAL (SELECT published_at, parked_at, aggregate_type, created_at FROM outbox.events WHERE position = u.position OFFSET 0) e
          WHERE e.published_at IS NULL AND e.parked_at IS NULL AND e.aggregate_type = ANY(?)`,
        [aggregateTypes],
      );
      return { n: Number(rows[0].n), age: Number(rows[0].age ?? 0) };
    } catch (err) {
      if (ABSENT.has((err as { code?: string }).code ?? '')) return { n: 0, age: 0 };
      throw err;
    }
  };

  /** Of the events `database` published within `seconds`, those past `reached` (the other side's counters): how many, the oldest's age. */
  const unappliedSince = async (database: string, reached: Map<string, number>, seconds: number): Promise<{ n: number; age: number }> => {
    const pairs = [...reached].map(([k, sequence]) => [...(k.split(SEPARATOR, 2) as [string, string]), sequence] as const);
    const { rows } = await pool(database).raw<{ rows: Array<{ n: string; age: string | null }> }>(
      `SELECT count(*) AS n, extract(epoch FROM now() - min(e.created_at)) AS age FROM outbox.events e
        JOIN unnest(?::text[], ?::text[], ?::bigint[]) AS k(aggregate_type, aggregate_id, reached) USING (aggregate_type, aggregate_id)
        WHERE e.sequence > k.reached AND e.published_at IS NOT NULL AND e.created_at >= now() - make_interval(secs => ?)`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1]), pairs.map((p) => p[2]), seconds],
    );
    return { n: Number(rows[0].n), age: Number(rows[0].age ?? 0) };
  };

  return {
    /**
     * How far `toSide` is behind `fromSide` for the domain (the preflight's and the ramp's sync
     * lag): the events `fromSide` has not published yet and those it published in the last
     * `windowSeconds` that `toSide` has not applied, and the oldest one's age. `undefined` when
     * it cannot be read (no sync spec, or `toSide` keeps no sequence counters).
     */
    lag: async (domain: Domain, fromSide: Side, toSide: Side, windowSeconds = 600): Promise<SyncLag | undefined> => {
      const synced = aggregateTypesOf(domain);
      if (!synced) return undefined;
      const from = sideDatabase(fromSide, synced.spec);
      const waiting = await backlog(from, synced.types);
      const written = await writtenWithin(from, synced.types, windowSeconds);
      let behind = { n: 0, age: 0 };
      if (written.size > 0) {
        const reached = await counters(sideDatabase(toSide, synced.spec), [...written.keys()]);
        if (!reached) return undefined;
        const late = new Map([...written].filter(([key, sequence]) => (reached.get(key) ?? 0) < sequence).map(([key]) => [key, reached.get(key) ?? 0]));
        if (late.size > 0) behind = await unappliedSince(from, late, windowSeconds);
      }
      return { seconds: Math.max(waiting.age, behind.age), unpublished: waiting.n, unapplied: behind.n };
    },
    drained: async (domain: Domain, sides: Side[]): Promise<boolean> => {
      const synced = aggregateTypesOf(domain);
      if (!synced) return true;
      const counts = await Promise.all(sides.map((side) => unpublished(sideDatabase(side, synced.spec), synced.types)));
      return counts.every((n) => n === 0);
    },
    /**
     * Whether the new side has applied every event the old sides wrote since `sinceMs` (a span
     * measured back from the database's own clock) and published: for
     * each aggregate written there, its counter on the new side has reached that write's
     * sequence. `undefined` (cannot tell) for a domain without a sync spec or a new side without
     * a database or outbox: the fence then waits its settle period instead.
     */
    applied: async (domain: Domain, oldSides: Side[], newSide: Side, sinceMs: number): Promise<boolean | undefined> => {
      const synced = aggregateTypesOf(domain);
      if (!synced) return undefined;
      const written = new Map<string, number>();
      const seconds = Math.max(0, Date.now() - sinceMs) / 1000;
      for (const side of oldSides) {
        for (const [key, sequence] of await writtenWithin(sideDatabase(side, synced.spec), synced.types, seconds)) {
          written.set(key, Math.max(sequence, written.get(key) ?? 0));
        }
      }
      if (written.size === 0) return true;
      const reached = await counters(sideDatabase(newSide, synced.spec), [...written.keys()]);
      if (!reached) return undefined;
      for (const [key, sequence] of written) if ((reached.get(key) ?? 0) < sequence) return false;
      return true;
    },
    async close() {
      await Promise.all([...pools.values()].map((k) => k.destroy()));
      pools.clear();
    },
  };
}
