import { withTransaction, type Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
import { withSpan } from '@banyan/telemetry';
import type { NotificationRow, NotificationsRepository } from '../data/repository';
import type { Mailer } from './mailer';

export interface SendDeps {
  knex: Knex;
  store: NotificationsRepository;
  outbox: Outbox;
  mailer: Mailer;
  from: string;
  maxAttempts: number;
  /** Delay before the n-th retry: `retryBaseMs × 2^(n-1)`, capped at an hour. */
  retryBaseMs: number;
  sendTimeoutMs: number;
}

export type SendOutcome = 'sent' | 'retrying' | 'failed';

/**
 * Send one claimed notification, then record the outcome.
 *
 * Email is at-least-once here, and cannot be better: the SMTP server accepts the message, and
 * only then do we commit `sent` (with `notification.sent`) to our database. If the process dies,
 * the database is unreachable or the lease runs out in between, the row is still `pending` and a
 * later sweep sends it again. The deterministic Message-ID (from the notification id) lets the
 * receiving side recognise that duplicate. The reverse order (mark, then send) would turn that
 * window into a lost email, which is worse for an order confirmation.
 *
 * The event that asked for the email is, by contrast, applied exactly once: the notification
 * row was written in the inbox's transaction, keyed by (consumer, event id), so a redelivered
 * `order.created` finds the inbox row and changes nothing. Duplicates can only come from this
 * narrow send-then-mark window, never from the broker redelivering.
 */
export async function sendNotification(deps: SendDeps, row: NotificationRow): Promise<SendOutcome> {
  const messageId = messageIdFor(row.id, deps.from);
  try {
    // nodemailer has no instrumentation: this client span is the email's hop in the trace (the
    // consumer's, when the send follows its commit; a sweep's own otherwise). Never the address.
    await withSpan(
      'email.send',
      { 'notification.id': row.id, 'email.message_id': messageId, 'email.attempt': row.attempts + 1, ...(row.order_id ? { 'order.id': row.order_id } : {}) },
      () => withTimeout(deps.mailer.sendMail({ from: deps.from, to: row.recipient, subject: row.subject, text: row.body, messageId }), deps.sendTimeoutMs),
      { kind: 'client' },
    );
  } catch (err) {
    const retryAfterMs = Math.min(deps.retryBaseMs * 2 ** row.attempts, 3_600_000);
    const failed = await deps.store.recordFailure(deps.knex, row.id, describeError(err), deps.maxAttempts, retryAfterMs);
    return failed?.status === 'failed' ? 'failed' : 'retrying';
  }

  await withTransaction(deps.knex, async (trx) => {
    const sent = await deps.store.markSent(trx, row.id);
    // Another sender got there first (its lease had run out on us): its event is the one.
    if (!sent) return;
    await deps.outbox.add<EventData<'notification.sent'>>(trx, {
      type: 'notification.sent',
      subject: sent.id,
      // The row's version is the event's sequence, so the other side can tell newer from older.
      sequence: sent.version,
      data: notificationSentData(sent),
    });
  });
  return 'sent';
}

/** Everything the other side needs to rebuild the row (see applySyncedNotification). */
export function notificationSentData(row: NotificationRow): EventData<'notification.sent'> {
  return {
    notificationId: row.id,
    channel: row.channel,
    to: row.recipient,
    subject: row.subject,
    ...(row.order_id ? { orderId: row.order_id } : {}),
    userId: row.user_id,
    status: 'sent',
    body: row.body,
    sourceEventId: row.source_event_id,
    createdAt: new Date(row.created_at).toISOString(),
    sentAt: new Date(row.sent_at ?? Date.now()).toISOString(),
  };
}

/** Same notification, same Message-ID, whichever attempt delivers it. */
export function messageIdFor(notificationId: string, from: string): string {
  const domain = /@([^\s>]+)>?\s*$/.exec(from)?.[1] ?? 'banyan.local';
  return `<${notificationId}@${domain}>`;
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * A hung SMTP server must not hold the sweep (nor the row's lease) for nodemailer's minutes-long
 * socket timeout. A send that completes after we gave up is one more at-least-once duplicate.
 */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`SMTP send timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
