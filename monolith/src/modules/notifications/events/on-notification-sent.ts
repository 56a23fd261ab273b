import type { EventData } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import type { Logger } from '@banyan/telemetry';
import { applySyncedNotification } from '../domain/apply-synced-notification';

/** The service whose changes this module follows while notifications is extracted. */
export const SERVICE_ORIGIN = 'notifications-service';

/**
 * `notifications-sync.notification.sent`: the extracted service's notifications, applied here
 * whatever the routing, so switching back to the monolith finds every notification the service sent.
 */
export function onNotificationSent(logger: Logger): Subscription<EventData<'notification.sent'>> {
  return {
    consumer: 'notifications-sync',
    eventType: 'notification.sent',
    async handle(event, trx) {
      await applySyncedNotification(trx, event, SERVICE_ORIGIN, logger);
    },
  };
}
