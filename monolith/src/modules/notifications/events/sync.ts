import type { EventData } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import type { Logger } from '@banyan/telemetry';
import { notificationsRepository } from '../data/repository';
import { applySyncedNotification } from '../domain/apply-synced-notification';

/**
 * Apply the other side's `notification.sent` to this side's table (two-way sync), whatever the
 * routing, so a switch either way finds every notification the other side sent. Only events whose
 * origin is `from` are applied: our own come back on the same exchange and must not echo.
 */
export function notificationSyncSubscriptions(options: { consumer: string; from: string; logger: Logger }): Subscription[] {
  const sent: Subscription<EventData<'notification.sent'>> = {
    consumer: options.consumer,
    eventType: 'notification.sent',
    async handle(event, trx) {
      await applySyncedNotification(notificationsRepository, trx, event, options.from, options.logger);
    },
  };
  return [sent];
}
