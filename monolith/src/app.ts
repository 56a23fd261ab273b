import type { Express } from 'express';
import nodemailer from 'nodemailer';
import { migrate, ping, type Knex } from '@banyan/db';
import { createHttpApp, finishHttpApp } from '@banyan/http';
import { inboxSchema, type Subscription } from '@banyan/inbox';
import { createOutbox, outboxSchema } from '@banyan/outbox';
import { staticRoutes, type RoutingView } from '@banyan/routing-client';
import type { Logger } from '@banyan/telemetry';
import type { MonolithConfig } from './config';
import type { Module, ModuleContext } from './kernel';
import { createAnalyticsModule } from './modules/analytics';
import { createNotificationsModule, type Mailer } from './modules/notifications';
import { createOrdersModule } from './modules/orders';
import { createPaymentsModule, testCardProcessor, type CardProcessor } from './modules/payments';
import { createProductsModule } from './modules/products';
import { createUsersModule } from './modules/users';

export interface MonolithDeps {
  config: MonolithConfig;
  knex: Knex;
  logger: Logger;
  /** The card processor is the one third party that cannot exist here: a test-card fake by default. */
  cardProcessor?: CardProcessor;
  /** Defaults to SMTP at SMTP_HOST:SMTP_PORT. */
  mailer?: Mailer;
  /** The gateway's routing table; without one, every domain is served here. */
  routing?: RoutingView;
}

export interface Monolith {
  app: Express;
  modules: ReturnType<typeof composeModules>;
  /** Every module's event subscriptions (own work and sync), for tests that deliver events directly. */
  subscriptions: Subscription[];
  /** Migrate every schema, then start modules' background work. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function composeModules(deps: MonolithDeps) {
  const { config, knex, logger } = deps;
  const outbox = createOutbox({ source: '/banyan/monolith', origin: 'monolith' });
  const routing = deps.routing ?? staticRoutes();
  const base = { knex, outbox, config, logger, routing };
  const users = createUsersModule({ ...base, logger: logger.child({ module: 'users' }) });
  const ctx = (name: string): ModuleContext => ({ ...base, verifier: users.verifier, logger: logger.child({ module: name }) });

  const mailer =
    deps.mailer ??
    nodemailer.createTransport({ host: config.SMTP_HOST, port: config.SMTP_PORT, secure: false, ignoreTLS: true, pool: true });

  const products = createProductsModule(ctx('products'), { users: users.api });
  const payments = createPaymentsModule(ctx('payments'), { cardProcessor: deps.cardProcessor ?? testCardProcessor() });
  const orders = createOrdersModule(ctx('orders'), { products: products.api, payments: payments.api });
  const notifications = createNotificationsModule(ctx('notifications'), { mailer });
  const analytics = createAnalyticsModule(ctx('analytics'));
  return { users, products, payments, orders, notifications, analytics };
}

/** The composition root: the only file that knows every module. */
export function buildMonolith(deps: MonolithDeps): Monolith {
  const modules = composeModules(deps);
  const all: Module[] = Object.values(modules);

  const app = createHttpApp({ logger: deps.logger, metrics: true, readinessChecks: { database: () => ping(deps.knex) } });
  // Which connections may name the client in X-Forwarded-For (the gateway's). req.ip, which the
  // login and registration limits count, is then the right-most address not trusted: a client
  // cannot choose its own unless it connects from a trusted proxy. Never `true` (config.ts refuses it).
  app.set('trust proxy', deps.config.TRUST_PROXY);
  for (const module of all) app.use(`/api/${module.name}`, module.router);
  finishHttpApp(app);

  return {
    app,
    modules,
    subscriptions: all.flatMap((m) => [...m.subscriptions, ...(m.syncSubscriptions ?? [])]),
    async start() {
      await migrate(deps.knex, [outboxSchema, inboxSchema, ...all.map((m) => m.schema)]);
      for (const module of all) await module.start?.();
    },
    async stop() {
      for (const module of [...all].reverse()) await module.stop?.();
    },
  };
}
