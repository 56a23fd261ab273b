import type { JSONWebKeySet } from 'jose';
import { createTokenVerifier } from '@banyan/auth';
import { serve, type Served } from '@banyan/http';
import { removeTopology, startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { staticRoutes, watchRoutes, type RoutingView } from '@banyan/routing-client';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, http, testNamespace, type TestDatabase } from '@banyan/testing';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../../../../gateway/test/support/gateway';
import { startMonolith, type MonolithHarness } from '../../../../monolith/test/support/harness';
import { buildProductsService } from '../../src';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface ProductsSystem {
  mono: MonolithHarness;
  service: { db: TestDatabase; served: Served; api: ReturnType<typeof http> };
  gateway: GatewayHarness;
  /** The routing as the monolith sees it (it lags the gateway by up to one poll). */
  routing: RoutingView;
  adminToken: string;
  close(): Promise<void>;
}

/**
 * Everything an extraction of products runs: the monolith (following the real gateway's routing,
 * calling the service's stock endpoints while products is extracted), the service, a real gateway
 * in front of both, and each side's relay and sync consumers on RabbitMQ under a namespace of this
 * file's own. The gateway needs the monolith's URL and the monolith the gateway's routing, so the
 * monolith gets a view that starts following the gateway once it exists (monolith mode until then).
 */
export async function startProductsSystem(label: string): Promise<ProductsSystem> {
  const namespace = testNamespace(label);
  const logger = createLogger('products-system', process.env.TEST_LOG_LEVEL ?? 'silent');
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    // The service verifies tokens through the monolith's JWKS endpoint, fetched over HTTP like in
    // production; the URL is known only once the monolith listens, hence the lazy key source.
    let jwksUrl = '';
    const db = await createTestDatabase(`${label}_svc`);
    cleanups.push(() => db.drop());
    const verifier = createTokenVerifier({ getKey: async () => (await (await fetch(jwksUrl)).json()) as JSONWebKeySet });
    const built = buildProductsService({ knex: db.knex, logger, verifier });
    await built.start();
    cleanups.push(() => built.stop());
    const served = await serve(built.app, 0);
    cleanups.push(() => served.close(1000));

    // Assigned once the gateway exists; the monolith needs the view (it closes over it) before that.
    // eslint-disable-next-line prefer-const
    let routes: RoutingView | undefined;
    const routing: RoutingView = {
      get: (domain) => routes!.get(domain),
      isExtracted: (domain) => routes?.isExtracted(domain) ?? false,
      beginWrite: (domain) => (routes ?? staticRoutes()).beginWrite(domain),
      onChange: () => () => undefined,
      refresh: async () => routes?.refresh(),
      stop: () => routes?.stop(),
    };
    const mono = await startMonolith(`${label}_mono`, {
      routing,
      env: { PRODUCTS_SERVICE_URL: served.url, PRODUCTS_TIMEOUT_MS: '2000', PRODUCTS_BREAKER_RESET_MS: '1000' },
    });
    cleanups.push(() => mono.close());
    jwksUrl = `${mono.served.url}/api/users/.well-known/jwks.json`;

    // The databases named so the gateway's switch fence reads these two outboxes (ADR 0303).
    const gateway = await startGateway({
      label: `${label}_gw`,
      monolith: mono.served.url,
      services: { products: served.url },
      env: { MONOLITH_DATABASE: mono.db.settings.database, PRODUCTS_DATABASE: db.settings.database },
    });
    cleanups.push(() => gateway.close());
    routes = watchRoutes({ adminUrl: gateway.adminUrl, token: ADMIN_TOKEN, intervalMs: 200, followerId: `${label}-monolith` });
    await routes.refresh();
    cleanups.push(async () => routes?.stop());

    const consumers: Consumers[] = [];
    // Consumers first: they declare the queues, so no event published after this is dropped.
    consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions: mono.monolith.modules.products.syncSubscriptions ?? [], logger, namespace }));
    consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: db.knex, subscriptions: built.definition.subscriptions ?? [], logger, namespace }));
    cleanups.push(async () => {
      for (const c of consumers) await c.close();
      await removeTopology(RABBITMQ_URL, consumers.map((c) => c.topology));
    });
    const relays: Relay[] = [];
    for (const database of [mono.db.settings, db.settings]) {
      const relay = createRelay({ database, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100 });
      await relay.start();
      relays.push(relay);
    }
    cleanups.push(async () => {
      for (const relay of relays) await relay.stop();
    });

    const { token } = await mono.admin();
    return { mono, service: { db, served, api: http(served.url) }, gateway, routing, adminToken: token, close };
  } catch (err) {
    await close();
    throw err;
  }
}
