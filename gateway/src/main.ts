import { ConfigError, databaseConnection } from '@banyan/config';
import { createKnex, describe, ensureDatabase } from '@banyan/db';
import { installShutdownHandlers, onShutdown, serve } from '@banyan/http';
import { createLogger } from '@banyan/telemetry';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { buildGateway } from './gateway';
import { listen } from './server';

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
  const gateway = buildGateway({ config, logger, knex, connection, defaultMetrics: true });
  await gateway.start();

  installShutdownHandlers(logger);
  onShutdown('database pool', () => knex.destroy());
  onShutdown('routing', () => gateway.stop());
  const admin = await serve(gateway.adminApp, config.GATEWAY_ADMIN_PORT, config.GATEWAY_ADMIN_HOST);
  onShutdown('admin server', () => admin.close());
  const publicServer = await listen(gateway.handler, config.GATEWAY_PORT, config.GATEWAY_HOST, gateway.frontDoor);
  onShutdown('public server', () => publicServer.close());
  logger.info({ url: publicServer.url, admin: admin.url, monolith: config.MONOLITH_URL }, 'gateway listening');
}

main().catch((err) => {
  console.error(`gateway: failed to start: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
