import { hostname } from 'node:os';
import { ConfigError, databaseConnection } from '@banyan/config';
import { createKnex, describe, ensureDatabase } from '@banyan/db';
import { installShutdownHandlers, onShutdown, serve } from '@banyan/http';
import { startInboxPruner } from '@banyan/inbox';
import { staticRoutes, watchRoutes } from '@banyan/routing-client';
import { createLogger } from '@banyan/telemetry';
import { buildMonolith } from './app';
import { loadMonolithConfig } from './config';
import { startModuleConsumers } from './consumers';
import { startMessaging } from './messaging';

/** The monolith process: migrate its database, serve HTTP, consume its events. */
async function main() {
  const config = loadMonolithConfig();
  const logger = createLogger('monolith', config.LOG_LEVEL);
  installShutdownHandlers(logger);

  const connection = databaseConnection(config, config.MONOLITH_DATABASE);
  await ensureDatabase(connection).catch((err: Error) => {
    throw new Error(`cannot reach PostgreSQL at ${describe(connection)} (${err.message}); start it with: docker compose up -d postgres`);
  });
  const knex = createKnex(connection);
  onShutdown('database pool', () => knex.destroy());

  // Follow the gateway's routing table when we can read it; otherwise every domain is ours.
  const routing = config.BANYAN_ADMIN_TOKEN
    ? watchRoutes({
        adminUrl: config.GATEWAY_ADMIN_URL,
        token: config.BANYAN_ADMIN_TOKEN,
        // The products and payments doors route writes in this process: the gateway's switch
        // fence waits for them as for its own (ADR 0303, third amendment).
        followerId: `monolith-${hostname().replace(/[^\w.-]/g, '_').slice(0, 60)}-${process.pid}`,
        onError: (err) => logger.debug({ err: err.message }, 'gateway routing table not readable; keeping the last known'),
      })
    : staticRoutes();
  // The moment this process acts on a switch (its doors and consumers read the view from now on).
  routing.onChange((next, previous) =>
    logger.info({ domain: next.domain, mode: next.mode, percent: next.percent, from: previous.mode, version: next.version }, 'route followed'),
  );
  await routing.refresh();
  onShutdown('routing watch', async () => routing.stop());

  const monolith = buildMonolith({ config, knex, logger, routing });
  await monolith.start();
  onShutdown('modules', () => monolith.stop());

  const consumers = await startModuleConsumers(
    monolith,
    routing,
    (subscriptions) => startMessaging({ config, knex, logger, subscriptions, namespace: config.BANYAN_MQ_NAMESPACE }),
    logger,
  );
  onShutdown('consumers', () => consumers.close());
  const pruner = startInboxPruner({ knex, retentionMs: config.INBOX_RETENTION_HOURS * 3_600_000, log: logger });
  onShutdown('inbox pruner', () => pruner.stop());

  const served = await serve(monolith.app, config.PORT, config.HOST);
  onShutdown('http server', () => served.close());
  logger.info({ url: served.url }, 'monolith listening');
}

main().catch((err) => {
  // One line a person can act on; the stack only when it is a bug rather than a setup problem.
  if (err instanceof ConfigError) console.error(`monolith: ${err.message}`);
  else console.error(`monolith: failed to start: ${err.message}`);
  process.exit(1);
});
