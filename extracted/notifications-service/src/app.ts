import type { TokenVerifier } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import { buildService, type ServiceDefinition, type ServiceParts } from '@banyan/service-kit';
import type { Logger } from '@banyan/telemetry';
import { notificationsSchema } from './data/migrations';
import { notificationsRepository } from './data/repository';
import type { Mailer } from './domain/mailer';
import { createSender, type Sender } from './domain/sender';
import { notificationSyncSubscriptions } from './events/sync';
import { onOrderCreated } from './events/on-order-created';
import { notificationsRouter } from './http/routes';

export const SERVICE_NAME = 'notifications-service';

export interface NotificationsServiceOptions {
  /** Handed over to the service, which closes it when it stops. */
  mailer: Mailer;
  from: string;
  sweepIntervalMs?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  sendTimeoutMs?: number;
}

export type NotificationsServiceDefinition = ServiceDefinition & { sender: Sender };

/**
 * The service's composition root: where the monolith's module got a ModuleContext, this gets the
 * service kit's parts. Everything below it is the module's code, moved (see the module's index.ts).
 */
export function defineNotificationsService(parts: ServiceParts, options: NotificationsServiceOptions): NotificationsServiceDefinition {
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const sender = createSender({
    knex: parts.knex,
    store: notificationsRepository,
    outbox: parts.outbox,
    mailer: options.mailer,
    from: options.from,
    logger: parts.logger,
    maxAttempts: options.maxAttempts ?? 8,
    retryBaseMs: options.retryBaseMs ?? 5_000,
    sendTimeoutMs,
    leaseMs: sendTimeoutMs * 4,
    sweepIntervalMs: options.sweepIntervalMs ?? 5_000,
    batchSize: 20,
  });

  return {
    name: SERVICE_NAME,
    domain: 'notifications',
    schemas: [notificationsSchema],
    router: notificationsRouter({ knex: parts.knex, store: notificationsRepository, verifier: parts.verifier }),
    sender,
    // The same queue as the module's (consumer `notification`), taken only while the gateway
    // routes notifications here; the module lets go of it at that moment.
    routedSubscriptions: [onOrderCreated(sender)],
    subscriptions: notificationSyncSubscriptions({ consumer: 'notifications-service-sync', from: 'monolith', logger: parts.logger }),
    // The sweep runs whatever the routing: rows recorded here before a switch back are still sent
    // from here, as the module does with its own.
    async start() {
      sender.start();
    },
    async stop() {
      await sender.stop();
      options.mailer.close?.();
    },
  };
}

/** For tests and embedding: the service on a given database, served wherever the caller serves it. */
export function buildNotificationsService(
  deps: { knex: Knex; logger: Logger; jwksUrl?: string; verifier?: TokenVerifier },
  options: NotificationsServiceOptions,
) {
  const service = buildService({ ...deps, name: SERVICE_NAME }, (parts) => defineNotificationsService(parts, options));
  return { ...service, definition: service.definition as NotificationsServiceDefinition };
}
