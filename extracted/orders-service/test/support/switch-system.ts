import { startConsumers, type Consumers } from '@banyan/messaging';
import { serve, type Served } from '@banyan/http';
import { createRelay, type Relay } from '@banyan/relay';
import { staticRoutes, watchRoutes, type RoutingView } from '@banyan/routing-client';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, deleteNamespaceTopology, eventually, testNamespace, type TestDatabase } from '@banyan/testing';
import { buildProductsService } from '@banyan/products-service';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../../../../gateway/test/support/gateway';
import { startMonolith, type MonolithHarness } from '../../../../monolith/test/support/harness';
import { CALLER_TOKEN, jwksVerifier, observedProcessor, startPaymentsService, type PaymentsServiceHarness } from '../../../payments-service/test/support';
import { ordersProcess, PRODUCTS_CALLER_TOKEN, type OrdersProcess } from './system';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface SwitchSystem {
  mono: MonolithHarness;
  orders: OrdersProcess;
  products: { db: TestDatabase; served: Served };
  payments: PaymentsServiceHarness;
  card: ReturnType<typeof observedProcessor>;
  gateway: GatewayHarness;
  close(): Promise<void>;
}

/**
 * Orders on both sides behind one real gateway: the monolith (its users domain signs every token;
 * its orders module's doors follow the routing), the orders service as a child process, the
 * products and payments services (both routed `extracted`, so each side's checkout reserves and
 * charges in one place), each side's relay and orders sync consumer on RabbitMQ under a namespace
 * of this file's own. The gateway's switch fence reads both orders databases (ADR 0303).
 */
export async function startSwitchSystem(label: string): Promise<SwitchSystem> {
  const namespace = testNamespace(label);
  const logger = createLogger('orders-switch', process.env.TEST_LOG_LEVEL ?? 'silent');
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const late = { jwksUrl: '', routes: undefined as RoutingView | undefined };
    const verifier = jwksVerifier(() => late.jwksUrl);
    const card = observedProcessor();

    const productsDb = await createTestDatabase(`${label}_products`);
    cleanups.push(() => productsDb.drop());
    const products = buildProductsService({ knex: productsDb.knex, logger, verifier }, { callerToken: PRODUCTS_CALLER_TOKEN });
    await products.start();
    const productsServed = await serve(products.app, 0);
    cleanups.push(() => productsServed.close(0));
    const payments = await startPaymentsService(`${label}_payments`, { verifier, cardProcessor: card.processor });
    cleanups.push(() => payments.close());

    const routing: RoutingView = {
      get: (domain) => late.routes!.get(domain),
      isExtracted: (domain) => late.routes?.isExtracted(domain) ?? false,
      beginWrite: (domain) => (late.routes ?? staticRoutes()).beginWrite(domain),
      onChange: (listener) => late.routes?.onChange(listener) ?? (() => undefined),
      refresh: async () => late.routes?.refresh(),
      stop: () => late.routes?.stop(),
    };
    const mono = await startMonolith(`${label}_mono`, {
      routing,
      cardProcessor: card.processor,
      env: {
        PRODUCTS_SERVICE_URL: productsServed.url,
        PAYMENTS_SERVICE_URL: payments.served.url,
        PAYMENTS_SERVICE_TOKEN: CALLER_TOKEN,
        PRODUCTS_SERVICE_TOKEN: PRODUCTS_CALLER_TOKEN,
        PRODUCTS_TIMEOUT_MS: '3000',
        PAYMENTS_TIMEOUT_MS: '3000',
      },
    });
    cleanups.push(() => mono.close());
    late.jwksUrl = `${mono.served.url}/api/users/.well-known/jwks.json`;

    const ordersDb = await createTestDatabase(`${label}_orders`);
    const orders = await ordersProcess(`${label}_orders`, {
      BANYAN_MQ_NAMESPACE: namespace,
      RABBITMQ_URL,
      USERS_JWKS_URL: late.jwksUrl,
      PRODUCTS_SERVICE_URL: productsServed.url,
      PRODUCTS_SERVICE_TOKEN: PRODUCTS_CALLER_TOKEN,
      PAYMENTS_SERVICE_URL: payments.served.url,
      PAYMENTS_SERVICE_TOKEN: CALLER_TOKEN,
      MONOLITH_URL: mono.served.url,
      ORDERS_SAGA_SWEEP_MS: '500',
      ORDERS_SAGA_STALE_MS: '10000',
    }, ordersDb);
    const gateway = await startGateway({
      label: `${label}_gw`,
      monolith: mono.served.url,
      services: { products: productsServed.url, payments: payments.served.url, orders: orders.url },
      env: { MONOLITH_DATABASE: mono.db.settings.database, ORDERS_DATABASE: ordersDb.settings.database },
    });
    cleanups.push(() => gateway.close());
    const routes = watchRoutes({ adminUrl: gateway.adminUrl, token: ADMIN_TOKEN, intervalMs: 200, followerId: `${label}-monolith` });
    late.routes = routes;
    await routes.refresh();
    cleanups.push(async () => routes.stop());

    // The monolith's side of the broker; the orders service runs its own relay and consumer.
    const consumers: Consumers = await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions: mono.monolith.modules.orders.syncSubscriptions ?? [], logger, namespace });
    cleanups.push(() => consumers.close());
    const relay: Relay = createRelay({ database: mono.db.settings, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100 });
    await relay.start();
    cleanups.push(() => relay.stop());

    cleanups.push(async () => {
      await orders.kill();
      await ordersDb.drop();
      await deleteNamespaceTopology(namespace, RABBITMQ_URL);
    });
    await orders.start({ GATEWAY_ADMIN_URL: gateway.adminUrl, BANYAN_ADMIN_TOKEN: ADMIN_TOKEN });

    for (const domain of ['products', 'payments'] as const) await gateway.route(domain, 'extracted');
    await eventually(
      async () => {
        await routes.refresh();
        if (!routes.isExtracted('products') || !routes.isExtracted('payments')) throw new Error('the monolith does not follow yet');
      },
      { timeoutMs: 10_000 },
    );
    return { mono, orders, products: { db: productsDb, served: productsServed }, payments, card, gateway, close };
  } catch (err) {
    await close();
    throw err;
  }
}
