import type { Knex } from '@banyan/db';
import { continueSequences } from '@banyan/outbox';
import type { EventData, EventEnvelope } from '@banyan/events';
import type { Logger } from '@banyan/telemetry';
import type { NotificationsRepository } from '../data/repository';

export type SyncOutcome = 'applied' | 'stale' | 'not-ours' | 'incomplete' | 'handled-on-both-sides';

/**
 * Keep this side's table in step with the other side's: apply a `notification.sent` written by
 * `origin` (the side we follow), in the inbox's transaction. Nothing is published back, so a
 * change never echoes; our own events come back on the same exchange and are skipped by origin.
 * A copy never sends an email here: it arrives `sent`, and the sender only claims `pending` rows.
 */
export async function applySyncedNotification(
  store: NotificationsRepository,
  trx: Knex.Transaction,
  event: EventEnvelope<EventData<'notification.sent'>>,
  origin: string,
  logger: Logger,
): Promise<SyncOutcome> {
  if (event.origin !== origin) return 'not-ours';
  const outcome = await apply(store, trx, event, logger);
  // Whatever became of it, this side has dealt with the other side's change: its counter says so
  // (a switch's fence reads it, ADR 0303) and its next own event on the aggregate numbers after
  // it. After the row, as every writer orders its locks: row, then counter.
  await continueSequences(trx, [{ aggregateType: 'notifications', aggregateId: event.data.notificationId, sequence: event.sequence }]);
  return outcome;
}

async function apply(store: NotificationsRepository, trx: Knex.Transaction, event: EventEnvelope<EventData<'notification.sent'>>, logger: Logger): Promise<Exclude<SyncOutcome, 'not-ours'>> {
  const data = event.data;
  // Events published before the sync fields existed cannot rebuild a row; backfill copies those.
  if (!data.userId || !data.sourceEventId || !data.createdAt || data.body === undefined) {
    logger.warn({ notificationId: data.notificationId }, 'notification.sent without the sync fields; left to backfill');
    return 'incomplete';
  }
  const twin = await store.findOtherForSourceEvent(trx, data.sourceEventId, data.notificationId);
  if (twin) {
    // Both sides recorded the same order.created (the switch-over window, see ADR 0321): the
    // customer got two emails; keeping our row keeps one row per order on each side.
    logger.warn({ notificationId: data.notificationId, ours: twin.id, sourceEventId: data.sourceEventId }, 'order notified on both sides');
    return 'handled-on-both-sides';
  }
  const written = await store.applySynced(trx, {
    id: data.notificationId,
    source_event_id: data.sourceEventId,
    user_id: data.userId,
    order_id: data.orderId ?? null,
    channel: data.channel,
    recipient: data.to,
    subject: data.subject,
    body: data.body,
    status: 'sent',
    created_at: new Date(data.createdAt),
    sent_at: data.sentAt ? new Date(data.sentAt) : new Date(event.time),
    version: event.sequence,
  });
  return written ? 'applied' : 'stale';
}
