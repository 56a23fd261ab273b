import type { Module, ModuleContext } from '../../kernel';
import type { PaymentsApi } from '../payments';
import type { ProductsApi } from '../products';
import { ORDERS_SCHEMA, migrations } from './data/migrations';
import { idempotencyKeys } from './data/idempotency-keys';
import { ordersRepository } from './data/repository';
import type { OrdersDeps } from './domain/deps';
import type { Order, OrderItem, OrderStatus } from './domain/order';
import { reconcileOrders, type ReconcileReport } from './domain/reconcile-orders';
import { orderEvents } from './events/publish';
import { orderSyncSubscriptions } from './events/sync';
import { ordersRouter } from './http/routes';
import { promClient, registerOnce, scrapedGauge } from '@banyan/telemetry';

export type { Order, OrderItem, OrderStatus, ReconcileReport };

/** Other modules learn about orders from `order.*` events; the door is for operators and tests. */
export interface OrdersApi {
  /** One reconciler pass now (it also runs every ORDERS_RECONCILE_INTERVAL_MS). */
  reconcile(): Promise<ReconcileReport>;
}

/**
 * How long an Idempotency-Key is remembered (ADR 0313): a client retries within minutes; a day
 * covers a retry after an outage, as Stripe's keys do.
 */
const KEY_RETENTION_MS = 24 * 3_600_000;

export function createOrdersModule(ctx: ModuleContext, doors: { products: ProductsApi; payments: PaymentsApi }): Module<OrdersApi> {
  const deps: OrdersDeps = { knex: ctx.knex, repo: ordersRepository, keys: idempotencyKeys, events: orderEvents(ctx.outbox), ...doors };
  const options = { olderThanMs: ctx.config.ORDERS_RECONCILE_AFTER_MS, batchSize: 50 };
  const reconciled = registerOnce(
    'banyan_orders_reconciled_total',
    () =>
      new promClient.Counter({
        name: 'banyan_orders_reconciled_total',
        help: 'Orders that failed mid-checkout, settled by the reconciler (refunded: their charge had gone through).',
        labelNames: ['outcome'] as const,
      }),
  );
  const unreconciled = scrapedGauge('banyan_orders_unreconciled', 'Orders failed mid-checkout whose payment is not settled yet, by status.', ['status']);

  // One pass at a time; a tick during a pass is skipped, not queued.
  let running: Promise<ReconcileReport> | undefined;
  const reconcile = () =>
    (running ??= reconcileOrders(deps, ctx.logger, options)
      .then((report) => {
        reconciled.inc({ outcome: 'refunded' }, report.refunded);
        reconciled.inc({ outcome: 'not_charged' }, report.reconciled - report.refunded);
        return report;
      })
      .finally(() => (running = undefined)));
  let timer: NodeJS.Timeout | undefined;
  let removeGauge: (() => void) | undefined;

  return {
    name: 'orders',
    schema: { schema: ORDERS_SCHEMA, migrations },
    router: ordersRouter(deps, ctx.verifier),
    subscriptions: [],
    // Orders the extracted service takes reach this database as its events (ADR 0314).
    syncSubscriptions: orderSyncSubscriptions({ consumer: 'orders-sync', from: 'orders-service' }),
    api: { reconcile },
    async start() {
      removeGauge = unreconciled.add(`orders:${ctx.config.MONOLITH_DATABASE}`, async (set) => {
        for (const { status, count } of await ordersRepository.unreconciledCounts(ctx.knex)) set({ status }, count);
      });
      timer = setInterval(() => {
        reconcile().catch((err: unknown) => ctx.logger.error({ err }, 'order reconciler pass failed'));
        idempotencyKeys.prune(ctx.knex, KEY_RETENTION_MS).catch((err: unknown) => ctx.logger.warn({ err }, 'forgetting old idempotency keys failed'));
      }, ctx.config.ORDERS_RECONCILE_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      removeGauge?.();
      await running?.catch(() => undefined);
    },
  };
}
