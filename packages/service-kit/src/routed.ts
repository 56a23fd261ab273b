import { startConsumers, type Consumers } from '@banyan/messaging';
import type { Knex } from '@banyan/db';
import type { Subscription } from '@banyan/inbox';
import type { RoutingView } from '@banyan/routing-client';
import type { Logger } from '@banyan/telemetry';

export interface RouteFollower {
  /** Whether the routed consumers are running right now. */
  readonly active: boolean;
  /** Resolves once the current route has been acted on (consumers started or not). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Run `start()`'s consumers only while `domain` is routed `extracted`: the mirror image of the
 * monolith's startModuleConsumers, which stops the module's own consumers at that moment. The
 * two sides then take turns on the same queues, so an effect (an email) happens on one side.
 *
 * Closing finishes and acks the messages in hand, so a message taken before a switch completes
 * on the side that took it. Changes are applied one at a time: a quick back-and-forth cannot
 * leave two sets of consumers running.
 */
export function followRoute(options: {
  routing: RoutingView;
  domain: string;
  start: () => Promise<Consumers>;
  logger: Logger;
}): RouteFollower {
  const { routing, domain, logger } = options;
  let running: Consumers | undefined;
  let closed = false;
  let queue = Promise.resolve();

  const apply = async () => {
    const wanted = !closed && routing.isExtracted(domain);
    if (wanted && !running) {
      running = await options.start();
      logger.info({ domain }, 'domain routed here: consumers started');
    } else if (!wanted && running) {
      const current = running;
      running = undefined;
      await current.close();
      logger.info({ domain }, 'domain routed away: consumers stopped');
    }
  };
  const enqueue = () => {
    queue = queue.then(apply).catch((err: Error) => logger.error({ err, domain }, 'could not follow a route change; retrying on the next one'));
    return queue;
  };

  const unsubscribe = routing.onChange((next) => {
    if (next.domain === domain) void enqueue();
  });
  void enqueue();

  return {
    get active() {
      return running !== undefined;
    },
    settled: () => queue,
    async close() {
      closed = true;
      unsubscribe();
      await enqueue();
    },
  };
}

/** The consumers of a service whose own work follows the gateway's routing (see followRoute). */
export function startRoutedConsumers(options: {
  url: string;
  knex: Knex;
  logger: Logger;
  routing: RoutingView;
  domain: string;
  subscriptions: Subscription[];
  namespace?: string;
}): RouteFollower {
  return followRoute({
    routing: options.routing,
    domain: options.domain,
    logger: options.logger,
    start: () =>
      startConsumers({
        url: options.url,
        knex: options.knex,
        subscriptions: options.subscriptions,
        logger: options.logger,
        namespace: options.namespace,
      }),
  });
}
