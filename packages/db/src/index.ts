import knexFactory, { Knex } from 'knex';
import { Client } from 'pg';

export type { Knex };

export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
}

/** The server and credentials, without the password, for messages a person will read. */
export const describe = (c: ConnectionSettings) => `postgresql://${c.user}@${c.host}:${c.port}/${c.database}`;

/**
 * Database-per-process: each process owns one database and creates it on first start.
 * Connects to the maintenance database `postgres` to do so. A concurrent creator is harmless.
 */
export async function ensureDatabase(settings: ConnectionSettings): Promise<void> {
  const admin = new Client({ ...settings, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [settings.database]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${quoteIdent(settings.database)}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04' && e.code !== '23505') throw e; // created meanwhile by another process
      });
    }
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(settings: ConnectionSettings): Promise<void> {
  const admin = new Client({ ...settings, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(settings.database)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A pool's size when its caller names none: BANYAN_PG_POOL_MAX (a whole number from 1), else 10.
 * `banyan start` lowers it for the nine processes it runs on one machine, whose PostgreSQL has the
 * default max_connections of 100: two systems at once (a test's and a developer's) reached it.
 */
export function defaultPoolMax(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.BANYAN_PG_POOL_MAX);
  return Number.isInteger(value) && value >= 1 ? value : 10;
}

/**
 * `quiet`: knex's own console warnings off ("Acquire connection error", "Connection Error"), for
 * pools on other processes' databases whose every failure reaches a caller that decides what it
 * means (a database not created yet is an answer there, not a fault) and logs it through pino.
 */
export function createKnex(settings: ConnectionSettings, pool: { min?: number; max?: number; quiet?: boolean } = {}): Knex {
  return knexFactory({
    client: 'pg',
    connection: { ...settings, application_name: process.env.OTEL_SERVICE_NAME ?? 'banyan' },
    pool: { min: pool.min ?? 0, max: pool.max ?? defaultPoolMax() },
    ...(pool.quiet ? { log: QUIET } : {}),
  });
}
const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

/** A migration written as code, so it runs the same from ts-jest and from compiled output. */
export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

/** A unit that owns one PostgreSQL schema and its migrations (a monolith module, a service, the outbox). */
export interface SchemaOwner {
  schema: string;
  migrations: Migration[];
}

/**
 * Migrate each owner's schema, in order. Each owner keeps its own migrations table inside its
 * schema, so a module's history moves with the module when it is extracted.
 */
export async function migrate(knex: Knex, owners: SchemaOwner[]): Promise<void> {
  for (const owner of owners) {
    await knex.raw(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(owner.schema)}`);
    const byName = new Map(owner.migrations.map((m) => [m.name, m]));
    await knex.migrate.latest({
      schemaName: owner.schema,
      tableName: 'migrations',
      migrationSource: {
        getMigrations: async () => owner.migrations.map((m) => m.name),
        getMigrationName: (name: string) => name,
        getMigration: async (name: string) => {
          const m = byName.get(name)!;
          return { up: m.up, down: m.down ?? (async () => undefined) };
        },
      },
    });
  }
}

/**
 * The one way a use case writes: everything inside `work` commits together or not at all. The
 * outbox write takes the same `trx`, which is what makes an event exist if and only if its
 * state change does.
 */
export function withTransaction<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return knex.transaction(work);
}

/** Readiness probe: the pool can reach the database. */
export async function ping(knex: Knex): Promise<boolean> {
  try {
    await knex.raw('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * Delete the rows of `table` that `where` selects, `chunk` at a time (each chunk its own short
 * statement, so no lock is held long), by the key column `key`. Returns how many were deleted.
 * Housekeeping of append-mostly tables: published outbox rows, old inbox rows.
 */
export async function deleteInChunks(knex: Knex, table: string, key: string, where: string, bindings: readonly Knex.RawBinding[], chunk = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await knex.raw<{ rowCount: number }>(`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ?)`, [...bindings, chunk]);
    total += rowCount;
    if (rowCount < chunk) return total;
  }
}
