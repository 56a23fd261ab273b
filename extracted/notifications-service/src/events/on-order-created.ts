import type { EventData } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import { notificationsRepository } from '../data/repository';
import { recordOrderNotification } from '../domain/record-order-notification';
import type { Sender } from '../domain/sender';

/**
 * `notification.order.created`: runs inside the inbox's transaction (see processOnce). The row is
 * recorded claimed by this consumer, and its email goes out from here once that transaction has
 * committed (`executionPromise` settles after COMMIT, or ROLLBACK, when there is nothing to send):
 * in the event's trace, never picked up meanwhile by a sweep that happens to be running.
 */
export function onOrderCreated(sender: Pick<Sender, 'leaseMs' | 'sendClaimed'>): Subscription<EventData<'order.created'>> {
  return {
    consumer: 'notification',
    eventType: 'order.created',
    async handle(event, trx) {
      const recorded = await recordOrderNotification(notificationsRepository, trx, event, sender.leaseMs);
      if (recorded) trx.executionPromise.then(() => sender.sendClaimed(recorded), () => undefined);
    },
  };
}
