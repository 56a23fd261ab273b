'use strict';
// Banyan's gateway, from the compiled output, as main.ts runs it (the declaration loaded as data,
// in a child Node for a .ts one, so this process never holds the TypeScript stripper or the
// scenarios' code) but on the benchmark's ports and its own database (banyan_bench_gateway). The
// domains are the shop's declaration's; MONOLITH_URL and PRODUCTS_SERVICE_URL (processes.js)
// point its targets at the bench upstreams.
const { databaseConnection } = require('@banyan/config');
const { createKnex, ensureDatabase } = require('@banyan/db');
const { loadMigrationData } = require('@banyan/migration');
const { serve } = require('@banyan/http');
const { createLogger } = require('@banyan/telemetry');
const { buildGateway, listen, loadGatewayConfig } = require('../dist');

async function main() {
  const config = loadGatewayConfig();
  const connection = databaseConnection(config, config.GATEWAY_DATABASE);
  await ensureDatabase(connection);
  const knex = createKnex(connection, { max: 3 });
  const gateway = buildGateway({ config, migration: loadMigrationData(), logger: createLogger('gateway-bench', 'warn'), knex, connection, defaultMetrics: true });
  await gateway.start();
  await serve(gateway.adminApp, config.GATEWAY_ADMIN_PORT);
  await listen(gateway.handler, config.GATEWAY_PORT, undefined, gateway.frontDoor);
  process.send?.('ready');
}
process.on('SIGTERM', () => process.exit(0));
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
