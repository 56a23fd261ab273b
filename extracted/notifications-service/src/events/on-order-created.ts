import type { EventData } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import { recordOrderNotification } from '../domain/record-order-notification';

/**
 * `notification.order.created`: runs inside the inbox's transaction (see processOnce). The email
 * goes out once that transaction has committed: `executionPromise` settles after COMMIT (or
 * ROLLBACK, in which case there is nothing to send).
 */
export function onOrderCreated(afterCommit: () => void): Subscription<EventData<'order.created'>> {
  return {
    consumer: 'notification',
    eventType: 'order.created',
    async handle(event, trx) {
      const recorded = await recordOrderNotification(trx, event);
      if (recorded) trx.executionPromise.then(afterCommit, () => undefined);
    },
  };
}
