import type { TokenVerifier } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import type { RoutingView } from '@banyan/routing-client';
import { buildService, type ServiceDefinition, type ServiceParts } from '@banyan/service-kit';
import type { Logger } from '@banyan/telemetry';
import { idempotencyKeys } from './data/idempotency-keys';
import { ORDERS_SCHEMA, migrations } from './data/migrations';
import { ordersRepository } from './data/repository';
import { sagaLog } from './data/sagas';
import { stockReleases } from './data/stock-releases';
import type { OrdersDeps } from './domain/deps';
import { sweepSagas, type SweepReport } from './domain/recover-sagas';
import { orderEvents } from './events/publish';
import { orderSyncSubscriptions } from './events/sync';
import { ordersRouter } from './http/routes';
import { paymentsDoor, productsDoor, type DoorOptions } from './remote/doors';

export type { SweepReport };

/** The outbox origin of this service's events. */
export const SERVICE_NAME = 'orders-service';

/** How long an Idempotency-Key is remembered (ADR 0313), as in the module. */
const KEY_RETENTION_MS = 24 * 3_600_000;

export interface OrdersServiceOptions {
  /** Where products and payments are served: the gateway's routing table. */
  routing: RoutingView;
  products: DoorOptions & { monolithUrl: string };
  payments: DoorOptions & { monolithUrl: string };
  sweepMs: number;
  staleMs: number;
}

export interface OrdersServiceDefinition extends ServiceDefinition {
  /** One sweep of unfinished sagas now (it also runs at start and every `sweepMs`). */
  sweep(): Promise<SweepReport>;
}

/**
 * The service's composition root, the counterpart of the module's `createOrdersModule`: where the
 * module called the products and payments modules' doors in-process, this calls their services
 * over HTTP, and where the module reconciled failed checkouts, this sweeps its saga log.
 */
export function ordersDefinition(parts: ServiceParts, options: OrdersServiceOptions): OrdersServiceDefinition {
  const deps: OrdersDeps = {
    knex: parts.knex,
    repo: ordersRepository,
    keys: idempotencyKeys,
    sagas: sagaLog,
    releases: stockReleases,
    events: orderEvents(parts.outbox),
    products: productsDoor(options.routing, options.products, parts.logger),
    payments: paymentsDoor(options.routing, options.payments, parts.logger),
  };
  // One sweep at a time; a tick during a sweep is skipped, not queued.
  let running: Promise<SweepReport> | undefined;
  const sweep = () => (running ??= sweepSagas(deps, parts.logger, { staleMs: options.staleMs, batchSize: 50 }).finally(() => (running = undefined)));
  let timer: NodeJS.Timeout | undefined;

  return {
    name: SERVICE_NAME,
    domain: 'orders',
    schemas: [{ schema: ORDERS_SCHEMA, migrations }],
    router: ordersRouter(deps, parts.verifier),
    // Keeps this database current with orders the monolith takes (before the switch, or after a switch back).
    subscriptions: orderSyncSubscriptions({ consumer: 'orders-service-sync', from: 'monolith' }),
    sweep,
    async start() {
      await options.routing.refresh();
      // Resume or compensate what a previous process left unfinished before taking new checkouts.
      const report = await sweep().catch((err: unknown) => parts.logger.error({ err }, 'checkout saga sweep at start failed'));
      if (report) parts.logger.info({ ...report }, 'checkout sagas left unfinished: swept');
      timer = setInterval(() => {
        sweep().catch((err: unknown) => parts.logger.error({ err }, 'checkout saga sweep failed'));
        idempotencyKeys.prune(parts.knex, KEY_RETENTION_MS).catch((err: unknown) => parts.logger.warn({ err }, 'forgetting old idempotency keys failed'));
      }, options.sweepMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
      options.routing.stop();
    },
  };
}

/** Build the service without listening (tests serve it on port 0). */
export function buildOrdersService(deps: { knex: Knex; logger: Logger; jwksUrl?: string; verifier?: TokenVerifier }, options: OrdersServiceOptions) {
  return buildService({ ...deps, name: SERVICE_NAME }, (parts) => ordersDefinition(parts, options));
}
