import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import { v7 as uuidv7 } from 'uuid';
import type { NotificationRow, NotificationsRepository } from '../data/repository';
import { composeOrderEmail } from './compose-order-email';

/**
 * Record the order's email as `pending`, in the caller's (the inbox's) transaction, claimed by the
 * caller for `leaseMs`. Nothing is sent here: SMTP is not transactional, so sending inside the
 * transaction would mail the customer about a change that may still roll back. The caller sends
 * the row once the transaction has committed; the sweep, if the caller died first.
 */
export async function recordOrderNotification(
  store: NotificationsRepository,
  trx: Knex.Transaction,
  event: EventEnvelope<EventData<'order.created'>>,
  leaseMs: number,
): Promise<NotificationRow | undefined> {
  const order = event.data;
  const { subject, body } = composeOrderEmail(order);
  return store.insert(trx, {
    id: uuidv7(),
    source_event_id: event.id,
    user_id: order.userId,
    order_id: order.orderId,
    channel: 'email',
    recipient: order.customerEmail,
    subject,
    body,
  }, leaseMs);
}
