import type { Logger } from '@banyan/telemetry';
import type { NotificationRow } from '../data/repository';
import { sendNotification, type SendDeps, type SendOutcome } from './send-notification';

export interface SenderOptions extends SendDeps {
  logger: Logger;
  sweepIntervalMs: number;
  batchSize: number;
  /** Longer than `sendTimeoutMs`, so a lease only runs out on a sender that died. */
  leaseMs: number;
}

export type SendReport = Record<SendOutcome, number>;

export interface Sender {
  /**
   * Send every due pending notification. A call during a running pass joins it and asks for one
   * more pass, so what the caller committed before calling is always looked at.
   */
  sendPending(): Promise<SendReport>;
  /** How long a new row stays claimed by the consumer that recorded it. */
  readonly leaseMs: number;
  /**
   * After the consumer's commit: send the row it recorded (and holds the claim of) now, in the
   * background and in the caller's trace. If the process dies first, the claim runs out and the
   * sweep sends it.
   */
  sendClaimed(row: NotificationRow): void;
  /** Start the periodic sweep, which also retries failed attempts once their delay is over. */
  start(): void;
  /** Stop the sweep and wait for the send in flight, so shutdown never cuts an email in half. */
  stop(): Promise<void>;
}

export function createSender(options: SenderOptions): Sender {
  const { logger } = options;
  let running: Promise<SendReport> | undefined;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const claimedInFlight = new Set<Promise<unknown>>();

  async function onePass(report: SendReport): Promise<void> {
    // Ids tried in this pass are not claimed again by it, even when their retry is already due
    // (a zero delay): a pass ends, and the next sweep retries them.
    const tried: string[] = [];
    for (;;) {
      const batch = await options.store.claimDue(options.knex, options.batchSize, options.leaseMs, tried);
      for (const [index, row] of batch.entries()) {
        if (stopped) {
          await options.store.releaseClaims(options.knex, batch.slice(index).map((r) => r.id));
          return;
        }
        tried.push(row.id);
        const outcome = await sendNotification(options, row);
        report[outcome]++;
        if (outcome !== 'sent') logger.warn({ notificationId: row.id, attempts: row.attempts + 1, outcome }, 'email not sent');
      }
      if (batch.length < options.batchSize) return;
    }
  }

  function sendPending(): Promise<SendReport> {
    if (stopped) return Promise.resolve({ sent: 0, retrying: 0, failed: 0 });
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      const report: SendReport = { sent: 0, retrying: 0, failed: 0 };
      try {
        do {
          again = false;
          // Rows their consumers are sending right now are claimed: let those sends finish first,
          // so a row committed before this call has been tried when it returns.
          await Promise.all(claimedInFlight);
          await onePass(report);
        } while (again && !stopped);
        return report;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const sendInBackground = () => {
    sendPending().catch((err: unknown) => logger.error({ err }, 'sending pending notifications failed; the sweep will retry'));
  };

  function sendClaimed(row: NotificationRow): void {
    const work = (async () => {
      if (stopped) {
        // Shutting down: give the claim back so the next sender need not wait it out.
        await options.store.releaseClaims(options.knex, [row.id]);
        return;
      }
      const outcome = await sendNotification(options, row);
      if (outcome !== 'sent') logger.warn({ notificationId: row.id, attempts: row.attempts + 1, outcome }, 'email not sent');
    })()
      .catch((err: unknown) => logger.error({ err, notificationId: row.id }, 'sending a notification failed; the sweep will retry'))
      .finally(() => claimedInFlight.delete(work));
    claimedInFlight.add(work);
  }

  return {
    sendPending,
    leaseMs: options.leaseMs,
    sendClaimed,
    start() {
      if (timer || stopped) return;
      sendInBackground();
      timer = setInterval(sendInBackground, options.sweepIntervalMs);
      // The sweep alone must never keep a process (or a test run) alive.
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.all([running?.catch(() => undefined), ...claimedInFlight]);
    },
  };
}
