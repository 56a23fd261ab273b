import { ConfigError, databaseConnection } from '@banyan/config';
import { createKnex, describe, ensureDatabase } from '@banyan/db';
import { createLogger } from '@banyan/telemetry';
import { buildMonolith } from './app';
import { loadMonolithConfig } from './config';
import { SEED_ADMIN_EMAIL, seedMonolith } from './seed';

/** `npm run seed`: create/migrate the monolith's database and seed it when empty. */
async function main() {
  const config = loadMonolithConfig();
  const logger = createLogger('seed', process.env.LOG_LEVEL ?? 'warn');
  const connection = databaseConnection(config, config.MONOLITH_DATABASE);
  await ensureDatabase(connection).catch((err: Error) => {
    throw new Error(`cannot reach PostgreSQL at ${describe(connection)} (${err.message}); start it with: docker compose up -d postgres`);
  });
  const knex = createKnex(connection);
  try {
    const monolith = buildMonolith({ config, knex, logger });
    await monolith.start();
    const result = await seedMonolith(monolith, process.env.BANYAN_ADMIN_PASSWORD || undefined);
    await monolith.stop();
    if (result.generatedPassword) console.log(`admin: ${SEED_ADMIN_EMAIL} / ${result.generatedPassword}  (set BANYAN_ADMIN_PASSWORD to choose it)`);
    else if (result.adminCreated || process.env.BANYAN_ADMIN_PASSWORD) console.log(`admin: ${SEED_ADMIN_EMAIL} (password from BANYAN_ADMIN_PASSWORD)`);
    else console.log(`admin: ${SEED_ADMIN_EMAIL} exists (password unchanged)`);
    console.log(`catalog: ${result.productsCreated} demo products created${result.productsCreated === 0 ? ' (catalog not empty)' : ''}`);
  } finally {
    await knex.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `seed: ${err.message}` : `seed: ${err.message}`);
  process.exit(1);
});
