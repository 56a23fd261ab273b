import { outboxReport, type OutboxReport } from '@banyan/outbox';
import { createKnex, type ConnectionSettings, type Knex } from '@banyan/db';

export type OutboxStatus = 'ok' | 'not created' | 'no outbox' | 'unreachable';

export interface OutboxEntry {
  database: string;
  status: OutboxStatus;
  report?: OutboxReport;
  /** For `unreachable`: what the driver said (no credentials: pg never puts the password in it). */
  error?: string;
}

/** Dashboards poll every 2 s per tab: answers younger than this are shared, so N tabs cost one read. */
const FRESH_MS = 1_000;

function classify(err: unknown): Exclude<OutboxStatus, 'ok'> {
  const code = (err as { code?: string }).code;
  if (code === '3D000') return 'not created'; // invalid_catalog_name
  if (code === '3F000' || code === '42P01') return 'no outbox'; // the database exists, its outbox schema does not
  return 'unreachable';
}

/** pg passes `options` to the server at connect: every transaction of the session is then read-only. */
export const readOnly = (settings: ConnectionSettings): ConnectionSettings => ({ ...settings, options: '-c default_transaction_read_only=on' }) as ConnectionSettings;

/**
 * The `banyan outbox` report of several databases over read-only sessions
 * (default_transaction_read_only): the dashboard looks at other processes' outboxes and has no
 * way to change them by mistake. The report's queries run in parallel, so a single READ ONLY
 * transaction (one connection) would serialise them. One small pool per database, kept for the
 * gateway's lifetime; a missing database is never created (that is its owner's job).
 */
export function createOutboxReader(options: {
  databases: string[];
  connection: (database: string) => ConnectionSettings;
  /** The gateway's own database, on the same server: asked which databases exist. */
  knex: Knex;
}) {
  const { databases, connection } = options;
  const pools = new Map<string, Knex>();
  const pool = (database: string) => {
    let knex = pools.get(database);
    if (!knex) pools.set(database, (knex = createKnex(readOnly(connection(database)), { max: 2, quiet: true })));
    return knex;
  };
  let last: { at: number; entries: Promise<OutboxEntry[]> } | undefined;

  const readOne = async (database: string, existing: Set<string>): Promise<OutboxEntry> => {
    if (!existing.has(database)) return { database, status: 'not created' };
    try {
      const report = await outboxReport(pool(database));
      return { database, status: 'ok', report };
    } catch (err) {
      const status = classify(err);
      return status === 'unreachable' ? { database, status, error: (err as Error).message } : { database, status };
    }
  };

  // Asked first so a database that does not exist yet is never connected to: knex would log a
  // connection error on every poll, for what is a normal state before a service is extracted.
  const readAll = async (): Promise<OutboxEntry[]> => {
    let existing: Set<string>;
    try {
      const { rows } = await options.knex.raw<{ rows: Array<{ datname: string }> }>('SELECT datname FROM pg_database WHERE datname = ANY(?)', [databases]);
      existing = new Set(rows.map((r) => r.datname));
    } catch (err) {
      const error = `the gateway's own database did not answer, so the others were not tried (${(err as Error).message})`;
      return databases.map((database) => ({ database, status: 'unreachable' as const, error }));
    }
    return Promise.all(databases.map((d) => readOne(d, existing)));
  };

  return {
    databases,
    read(): Promise<OutboxEntry[]> {
      if (!last || Date.now() - last.at > FRESH_MS) last = { at: Date.now(), entries: readAll() };
      return last.entries;
    },
    async close() {
      await Promise.all([...pools.values()].map((k) => k.destroy()));
      pools.clear();
    },
  };
}

export type OutboxReader = ReturnType<typeof createOutboxReader>;
