import type { Knex } from '@banyan/db';
import { startConsumers, type Consumers } from '@banyan/messaging';
import type { Subscription } from '@banyan/inbox';
import type { Logger } from '@banyan/telemetry';
import type { MonolithConfig } from './config';

/**
 * Deliver the modules' subscriptions from RabbitMQ. Modules never call each other for events,
 * even in-process: they receive them the way an extracted service will, so extracting
 * notifications or analytics later moves a consumer, not a design.
 *
 * Call after `monolith.start()` (the inbox schema must exist) and close before the pool:
 *   const messaging = await startMessaging({ config, knex, logger, subscriptions: monolith.subscriptions });
 *   … on shutdown: await messaging.close();
 */
export function startMessaging(deps: {
  config: Pick<MonolithConfig, 'RABBITMQ_URL'>;
  knex: Knex;
  logger: Logger;
  subscriptions: Subscription[];
  /** Exchange/queue name prefix; tests give each file its own. */
  namespace?: string;
  prefetch?: number;
}): Promise<Consumers> {
  return startConsumers({
    url: deps.config.RABBITMQ_URL,
    knex: deps.knex,
    subscriptions: deps.subscriptions,
    logger: deps.logger.child({ component: 'consumers' }),
    prefetch: deps.prefetch ?? 20,
    namespace: deps.namespace,
  });
}
