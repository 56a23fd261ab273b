import { DOMAINS } from '@banyan/events';
import { names, removeTopology, startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { staticRoutes, watchRoutes, type RoutingView } from '@banyan/routing-client';
import { createLogger } from '@banyan/telemetry';
import { eventually, testNamespace } from '@banyan/testing';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../../../gateway/test/support/gateway';
import { startMonolith, type MonolithHarness } from '../../../monolith/test/support/harness';
import { CALLER_TOKEN, jwksVerifier, observedProcessor, startPaymentsService, type PaymentsServiceHarness } from './support';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface PaymentsSystem {
  mono: MonolithHarness;
  service: PaymentsServiceHarness;
  gateway: GatewayHarness;
  /** The one card processor both sides call (one third party), with its counters and its switch. */
  card: ReturnType<typeof observedProcessor>;
  adminToken: string;
  /** Route payments at the gateway and wait until the monolith's door has seen it (it polls). */
  route(mode: 'monolith' | 'extracted' | 'shadow' | 'canary', percent?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Everything an extraction of payments runs: the monolith (its orders call the payments door,
 * which follows the real gateway's routing), the payments service, a real gateway in front of
 * both, each side's relay, and each side's consumers of the other's `payment.*` events, on
 * RabbitMQ under a namespace of this file's own (deleted on close, even after a failed start).
 */
export async function startPaymentsSystem(label: string, options: { breakerResetMs?: number; timeoutMs?: number } = {}): Promise<PaymentsSystem> {
  const namespace = testNamespace(label);
  const logger = createLogger('payments-system', process.env.TEST_LOG_LEVEL ?? 'silent');
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const card = observedProcessor();
    // The service verifies customers' tokens with the monolith's users JWKS, known once it listens.
    const late = { jwksUrl: '', routes: undefined as RoutingView | undefined };
    const service = await startPaymentsService(`${label}_svc`, { verifier: jwksVerifier(() => late.jwksUrl), cardProcessor: card.processor });
    cleanups.push(() => service.close());

    // The gateway needs the monolith's URL and the monolith the gateway's routing: the door asks
    // this view, which answers `monolith` until the gateway exists and then follows it.
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
        PAYMENTS_SERVICE_URL: service.served.url,
        PAYMENTS_SERVICE_TOKEN: CALLER_TOKEN,
        PAYMENTS_TIMEOUT_MS: String(options.timeoutMs ?? 2000),
        PAYMENTS_BREAKER_RESET_MS: String(options.breakerResetMs ?? 1000),
        // The reconciler runs when a test asks (orders.api.reconcile()), on any order it finds.
        ORDERS_RECONCILE_AFTER_MS: '0',
        ORDERS_RECONCILE_INTERVAL_MS: '3600000',
      },
    });
    cleanups.push(() => mono.close());
    late.jwksUrl = `${mono.served.url}/api/users/.well-known/jwks.json`;

    const gateway = await startGateway({ label: `${label}_gw`, monolith: mono.served.url, services: { payments: service.served.url } });
    cleanups.push(() => gateway.close());
    const routes = watchRoutes({ adminUrl: gateway.adminUrl, token: ADMIN_TOKEN, intervalMs: 200, followerId: `${label}-monolith` });
    late.routes = routes;
    await routes.refresh();
    cleanups.push(async () => routes.stop());

    // Consumers first: they declare the queues, so no event published after this is dropped.
    const consumers: Consumers[] = [];
    cleanups.push(async () => {
      for (const c of consumers) await c.close();
      // The consumers' queues and exchanges, and the exchanges the relays declared to publish.
      const exchanges = DOMAINS.map((domain) => names(namespace).exchange(domain));
      await removeTopology(RABBITMQ_URL, [...consumers.map((c) => c.topology), { queues: [], exchanges }]);
    });
    consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions: mono.monolith.modules.payments.syncSubscriptions ?? [], logger, namespace }));
    consumers.push(await startConsumers({ url: RABBITMQ_URL, knex: service.db.knex, subscriptions: service.service.definition.subscriptions ?? [], logger, namespace }));
    const relays: Relay[] = [];
    cleanups.push(async () => {
      for (const relay of relays) await relay.stop();
    });
    for (const database of [mono.db.settings, service.db.settings]) {
      const relay = createRelay({ database, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100 });
      await relay.start();
      relays.push(relay);
    }

    const { token } = await mono.admin();
    return {
      mono,
      service,
      gateway,
      card,
      adminToken: token,
      async route(mode, percent) {
        await gateway.route('payments', mode, percent);
        await eventually(async () => {
          await routes.refresh();
          if (routes.isExtracted('payments') !== (mode === 'extracted')) throw new Error(`the monolith does not see payments ${mode} yet`);
        }, { timeoutMs: 10_000 });
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
