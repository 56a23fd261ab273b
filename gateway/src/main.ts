import { ConfigError, databaseConnection } from '@banyan/config';
import { createKnex, describe, ensureDatabase } from '@banyan/db';
import { installShutdownHandlers, onShutdown, serve } from '@banyan/http';
import { loadMigrationData, MigrationDeclarationError, type MigrationData } from '@banyan/migration';
import { createLogger } from '@banyan/telemetry';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { buildGateway } from './gateway';
import { listen } from './server';
import { topologyOf } from './topology';

/** One line per problem, `<file>: <path>: <reason>`, then exit: a gateway never routes by a declaration it could not read whole. */
function declarationFailed(err: MigrationDeclarationError): never {
  for (const line of err.message.split('\n')) console.error(`gateway: ${line}`);
  process.exit(1);
}

async function main() {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`gateway: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  // The domains, their prefixes and targets: banyan.migration.ts (or .json) found from the working
  // directory up to the project's root, or the file BANYAN_MIGRATION names; its urlEnv/databaseEnv
  // variables (MONOLITH_URL, PRODUCTS_SERVICE_URL …) are read from this environment. Its data only:
  // a .ts declaration is loaded in a child Node, so Node's TypeScript stripper and the parity
  // scenarios' code never stay resident here (24 MB of peak RSS for the shop's, docs/benchmarks.md).
  let migration: MigrationData;
  try {
    migration = loadMigrationData();
    // What this gateway cannot route by (an https:// target), before anything is opened.
    topologyOf(migration);
  } catch (err) {
    if (err instanceof MigrationDeclarationError) declarationFailed(err);
    throw err;
  }
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const connection = databaseConnection(config, config.GATEWAY_DATABASE);
  try {
    await ensureDatabase(connection);
  } catch (err) {
    console.error(
      `gateway: cannot reach PostgreSQL at ${describe(connection)} (${(err as Error).message}); start it with \`docker compose up -d postgres\` or set PGHOST/PGPORT/DATABASE_URL.`,
    );
    process.exit(1);
  }
  const knex = createKnex(connection, { max: 5 });
  const gateway = buildGateway({ config, migration, logger, knex, connection, defaultMetrics: true });
  await gateway.start();

  installShutdownHandlers(logger);
  onShutdown('database pool', () => knex.destroy());
  onShutdown('routing', () => gateway.stop());
  const admin = await serve(gateway.adminApp, config.GATEWAY_ADMIN_PORT, config.GATEWAY_ADMIN_HOST);
  onShutdown('admin server', () => admin.close());
  const publicServer = await listen(gateway.handler, config.GATEWAY_PORT, config.GATEWAY_HOST, gateway.frontDoor);
  onShutdown('public server', () => publicServer.close());
  logger.info({ url: publicServer.url, admin: admin.url, monolith: migration.monolith.url, declaration: migration.file, domains: gateway.topology.names }, 'gateway listening');
}

main().catch((err) => {
  console.error(`gateway: failed to start: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
