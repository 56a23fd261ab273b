import type { EventData } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import type { Logger } from '@banyan/telemetry';
import { applySyncedNotification } from '../domain/apply-synced-notification';

/** The side whose changes this service follows: whatever the monolith sends while it serves notifications. */
export const MONOLITH_ORIGIN = 'monolith';

/**
 * `notifications-service-sync.notification.sent`: the monolith's notifications, applied here
 * whatever the routing, so the service is current when notifications is switched to it.
 */
export function onNotificationSent(logger: Logger): Subscription<EventData<'notification.sent'>> {
  return {
    consumer: 'notifications-service-sync',
    eventType: 'notification.sent',
    async handle(event, trx) {
      await applySyncedNotification(trx, event, MONOLITH_ORIGIN, logger);
    },
  };
}
