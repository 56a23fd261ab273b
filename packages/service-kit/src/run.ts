import { ConfigError, databaseConnection } from '@banyan/config';
import { createKnex, describe, ensureDatabase } from '@banyan/db';
import { installShutdownHandlers, onShutdown, serve } from '@banyan/http';
import { startInboxPruner } from '@banyan/inbox';
import { startConsumers } from '@banyan/messaging';
import { createRelay, observeOutbox, relayMetrics } from '@banyan/relay';
import { staticRoutes, type RoutingView } from '@banyan/routing-client';
import { createLogger, type Logger } from '@banyan/telemetry';
import type { ServiceConfig } from './config';
import { startRoutedConsumers } from './routed';
import { buildService, type ServiceDefinition, type ServiceParts } from './service';

/**
 * A service's `main`: database-per-service created if missing, migrations, HTTP, its consumers,
 * and its own relay for its own outbox, all closed in reverse order on SIGTERM.
 */
export async function runService<C extends ServiceConfig>(
  name: string,
  loadConfig: () => C,
  define: (parts: ServiceParts, config: C) => ServiceDefinition,
  options: {
    /** Where the service learns the gateway's routing; its routedSubscriptions follow it. */
    routing?: (config: C, logger: Logger) => RoutingView;
  } = {},
) {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`${name}: ${err instanceof ConfigError ? err.message : (err as Error).message}`);
    process.exit(1);
  }
  const logger = createLogger(name, config.LOG_LEVEL);
  installShutdownHandlers(logger);
  try {
    const database = databaseConnection(config, config.SERVICE_DATABASE);
    await ensureDatabase(database).catch((err: Error) => {
      throw new Error(`cannot reach PostgreSQL at ${describe(database)} (${err.message}); start it with: docker compose up -d postgres`);
    });
    const knex = createKnex(database);
    onShutdown('database pool', () => knex.destroy());

    const service = buildService({ knex, logger, jwksUrl: config.USERS_JWKS_URL, name }, (parts) => define(parts, config));
    await service.start();
    onShutdown('service', () => service.stop());

    if (config.SERVICE_RELAY === 'on') {
      // The service's own outbox, relayed in-process and measured like the relay process's:
      // its backlog, oldest unpublished age and publish counters appear on this /metrics.
      // Scrapes read the stats later, never before `relay` below is assigned (createRelay is synchronous).
      const metrics = relayMetrics(() => relay.stats);
      const stopObserving = observeOutbox(knex, database.database);
      const relay = createRelay({
        database,
        url: config.RABBITMQ_URL,
        namespace: config.BANYAN_MQ_NAMESPACE,
        logger: logger.child({ component: 'relay' }),
        afterConfirm: metrics.afterConfirm,
      });
      await relay.start();
      onShutdown('relay', async () => {
        await relay.stop();
        metrics.close();
        stopObserving();
      });
    }
    const subscriptions = service.definition.subscriptions ?? [];
    if (subscriptions.length || service.definition.routedSubscriptions?.length) {
      const pruner = startInboxPruner({ knex, retentionMs: config.INBOX_RETENTION_HOURS * 3_600_000, log: logger });
      onShutdown('inbox pruner', () => pruner.stop());
    }
    if (subscriptions.length) {
      const consumers = await startConsumers({ url: config.RABBITMQ_URL, knex, subscriptions, namespace: config.BANYAN_MQ_NAMESPACE, logger: logger.child({ component: 'consumers' }) });
      onShutdown('consumers', () => consumers.close());
    }
    const routed = service.definition.routedSubscriptions ?? [];
    if (routed.length) {
      // Without a routing source the domain counts as the monolith's, so the service never takes
      // over the monolith's work by default.
      const routing = options.routing?.(config, logger) ?? staticRoutes();
      await routing.refresh();
      onShutdown('routing watch', async () => routing.stop());
      const follower = startRoutedConsumers({
        url: config.RABBITMQ_URL,
        knex,
        logger: logger.child({ component: 'routed-consumers' }),
        routing,
        domain: service.definition.domain,
        subscriptions: routed,
        namespace: config.BANYAN_MQ_NAMESPACE,
      });
      await follower.settled();
      onShutdown('routed consumers', () => follower.close());
    }
    const served = await serve(service.app, config.PORT, config.HOST);
    onShutdown('http server', () => served.close());
    logger.info({ url: served.url, database: describe(database) }, `${name} listening`);
  } catch (err) {
    console.error(`${name}: failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
}
