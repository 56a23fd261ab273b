import type { Module, ModuleContext } from '../../kernel';
import { notificationsSchema } from './data/migrations';
import { notificationsRepository } from './data/repository';
import type { Mailer } from './domain/mailer';
import { createSender, type SendReport } from './domain/sender';
import { notificationSyncSubscriptions } from './events/sync';
import { onOrderCreated } from './events/on-order-created';
import { notificationsRouter } from './http/routes';

export type { Mailer } from './domain/mailer';
export type { SendReport } from './domain/sender';
export type { NotificationView, NotificationPage } from './domain/list-notifications';

export interface NotificationsOptions {
  /** Handed over to the module, which closes it when it stops. */
  mailer: Mailer;
  /** How often pending emails are retried. */
  sweepIntervalMs?: number;
  /** After this many failed attempts a notification is `failed` and left alone. */
  maxAttempts?: number;
  /** First retry delay; it doubles with each attempt. */
  retryBaseMs?: number;
  sendTimeoutMs?: number;
}

export interface NotificationsApi {
  /** Send every due pending notification now (the sweep does this on its own; for operators and tests). */
  sendPending(): Promise<SendReport>;
}

export function createNotificationsModule(ctx: ModuleContext, options: NotificationsOptions): Module<NotificationsApi> {
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const sender = createSender({
    knex: ctx.knex,
    store: notificationsRepository,
    outbox: ctx.outbox,
    mailer: options.mailer,
    from: ctx.config.MAIL_FROM,
    logger: ctx.logger,
    maxAttempts: options.maxAttempts ?? 8,
    retryBaseMs: options.retryBaseMs ?? 5_000,
    sendTimeoutMs,
    leaseMs: sendTimeoutMs * 4,
    sweepIntervalMs: options.sweepIntervalMs ?? 5_000,
    batchSize: 20,
  });

  return {
    name: 'notifications',
    schema: notificationsSchema,
    router: notificationsRouter({ knex: ctx.knex, store: notificationsRepository, verifier: ctx.verifier }),
    api: { sendPending: sender.sendPending },
    subscriptions: [onOrderCreated(sender)],
    // The sender below keeps running while the domain is extracted: rows recorded here before the
    // switch are still sent from here, so a message taken before a switch finishes on this side.
    syncSubscriptions: notificationSyncSubscriptions({ consumer: 'notifications-sync', from: 'notifications-service', logger: ctx.logger }),
    async start() {
      sender.start();
    },
    async stop() {
      await sender.stop();
      // The module is the transport's only user, so it closes it: a pooled transport keeps its
      // SMTP connections open, which holds up the SMTP server's shutdown and the process's exit.
      options.mailer.close?.();
    },
  };
}
