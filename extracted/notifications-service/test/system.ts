import nodemailer from 'nodemailer';
import { DOMAINS } from '@banyan/events';
import { serve, type Served } from '@banyan/http';
import { names, removeTopology, startConsumers, type Consumers, type DeclaredTopology } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { watchRoutes } from '@banyan/routing-client';
import { followRoute, type RouteFollower } from '@banyan/service-kit';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, http, startSmtpServer, testNamespace, type ReceivedMail, type SmtpCapture, type TestDatabase } from '@banyan/testing';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../../../gateway/test/support/gateway';
import type { Monolith } from '../../../monolith/src/app';
import { startModuleConsumers } from '../../../monolith/src/consumers';
import { startMessaging } from '../../../monolith/src/messaging';
import { startMonolith, type MonolithHarness } from '../../../monolith/test/support/harness';
import { buildNotificationsService } from '../src/app';
import { inspectQueue, MAIL_FROM, RABBITMQ_URL } from './support';

export interface NotificationsSystem {
  /** The monolith; its notifications module mails through `mono.smtp`. */
  mono: MonolithHarness;
  service: { db: TestDatabase; served: Served; api: ReturnType<typeof http>; smtp: SmtpCapture; follower: RouteFollower };
  gateway: GatewayHarness;
  adminToken: string;
  /** This file's RabbitMQ name prefix. */
  namespace: string;
  /** Every email either side sent, each tagged with the side whose SMTP server received it. */
  mails(): Array<ReceivedMail & { side: 'monolith' | 'service' }>;
  /** Route notifications at the gateway and wait until exactly the routed side holds the queue. */
  route(mode: 'monolith' | 'extracted' | 'shadow' | 'canary', percent?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Everything an extraction of notifications runs, as `npm start` runs it: the monolith and the
 * service, each with its own database, relay and real SMTP server; a real gateway in front of both
 * whose routing table both sides poll (the monolith's module consumers and the service's routed
 * consumers take turns on `notification.order.created`); each side's consumers of the other's
 * `notification.sent`. RabbitMQ under a namespace of this file's own, deleted on close.
 */
export async function startNotificationsSystem(label: string): Promise<NotificationsSystem> {
  const namespace = testNamespace(label);
  const logger = createLogger('notifications-system', process.env.TEST_LOG_LEVEL ?? 'silent');
  const declared: DeclaredTopology[] = [];
  const record = (consumers: Consumers) => {
    declared.push(consumers.topology);
    return consumers;
  };
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  cleanups.push(() =>
    // The consumers' queues and exchanges, and the exchanges the relays declared to publish.
    removeTopology(RABBITMQ_URL, [...declared, { queues: [], exchanges: DOMAINS.map((domain) => names(namespace).exchange(domain)) }]),
  );
  try {
    const mono = await startMonolith(`${label}_mono`);
    cleanups.push(() => mono.close());

    const db = await createTestDatabase(`${label}_svc`);
    cleanups.push(() => db.drop());
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const built = buildNotificationsService(
      { knex: db.knex, logger, jwksUrl: `${mono.served.url}/api/users/.well-known/jwks.json` },
      {
        mailer: nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true, pool: true }),
        from: MAIL_FROM,
        sweepIntervalMs: 300,
      },
    );
    await built.start();
    cleanups.push(() => built.stop());
    const served = await serve(built.app, 0);
    cleanups.push(() => served.close(1000));

    const gateway = await startGateway({ label: `${label}_gw`, monolith: mono.served.url, services: { notifications: served.url } });
    cleanups.push(() => gateway.close());
    // Each process polls the routing table on its own, as two processes would.
    const watch = () => watchRoutes({ adminUrl: gateway.adminUrl, token: ADMIN_TOKEN, intervalMs: 200 });
    const monoRoutes = watch();
    const serviceRoutes = watch();
    await Promise.all([monoRoutes.refresh(), serviceRoutes.refresh()]);
    cleanups.push(async () => {
      monoRoutes.stop();
      serviceRoutes.stop();
    });

    // The monolith's real switch (startModuleConsumers), over the notifications module alone: the
    // other modules' queues would cost the broker file handles and prove nothing here.
    const notificationsOnly = { ...mono.monolith, modules: { notifications: mono.monolith.modules.notifications } } as unknown as Monolith;
    const monoConsumers = await startModuleConsumers(
      notificationsOnly,
      monoRoutes,
      async (subscriptions) => record(await startMessaging({ config: { RABBITMQ_URL }, knex: mono.db.knex, logger, subscriptions, namespace })),
      logger,
    );
    cleanups.push(() => monoConsumers.close());
    const serviceSync = record(await startConsumers({ url: RABBITMQ_URL, knex: db.knex, logger, namespace, subscriptions: built.definition.subscriptions ?? [] }));
    cleanups.push(() => serviceSync.close());
    const follower = followRoute({
      routing: serviceRoutes,
      domain: 'notifications',
      logger,
      start: async () => record(await startConsumers({ url: RABBITMQ_URL, knex: db.knex, logger, namespace, subscriptions: built.definition.routedSubscriptions ?? [] })),
    });
    await follower.settled();
    cleanups.push(() => follower.close());

    const relays: Relay[] = [];
    cleanups.push(async () => {
      for (const relay of relays) await relay.stop();
    });
    for (const database of [mono.db.settings, db.settings]) {
      const relay = createRelay({ database, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100 });
      await relay.start();
      relays.push(relay);
    }

    const orderQueue = names(namespace).queue('notification', 'order.created');
    const { token } = await mono.admin();
    return {
      mono,
      service: { db, served, api: http(served.url), smtp, follower },
      gateway,
      adminToken: token,
      namespace,
      mails: () => [...mono.smtp.mails.map((m) => ({ ...m, side: 'monolith' as const })), ...smtp.mails.map((m) => ({ ...m, side: 'service' as const }))],
      async route(mode, percent) {
        await gateway.route('notifications', mode, percent);
        await eventually(async () => {
          await Promise.all([monoRoutes.refresh(), serviceRoutes.refresh()]);
          await follower.settled();
          return { serviceActive: follower.active, ...(await inspectQueue(orderQueue)) };
        }, { until: (s) => s.serviceActive === (mode === 'extracted') && s.consumerCount === 1, timeoutMs: 10_000 });
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
