import { randomBytes } from 'node:crypto';
import { createKnex, dropDatabase, ensureDatabase, type ConnectionSettings, type Knex } from '@banyan/db';

export interface TestDatabase {
  settings: ConnectionSettings;
  knex: Knex;
  /** Destroy the pool and drop the database. */
  drop(): Promise<void>;
}

/** The machine's PostgreSQL, as the contract's libpq variables describe it. */
export function testConnection(database: string): ConnectionSettings {
  return {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    password: process.env.PGPASSWORD,
    database,
  };
}

/**
 * A fresh database for one test file, so files run in parallel without seeing each other.
 * Named `banyan_test_<label>_<random>`; dropped by `drop()`.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `banyan_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const settings = testConnection(name);
  await ensureDatabase(settings);
  const knex = createKnex(settings, { max: 10 });
  return {
    settings,
    knex,
    async drop() {
      await knex.destroy();
      await dropDatabase(settings);
    },
  };
}
