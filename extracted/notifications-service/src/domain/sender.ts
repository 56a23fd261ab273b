import type { Logger } from '@banyan/telemetry';
import { notificationsRepository } from '../data/repository';
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
  /** After a commit: send now, in the background (the sweep is the safety net). */
  kick(): void;
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

  async function onePass(report: SendReport): Promise<void> {
    // Ids tried in this pass are not claimed again by it, even when their retry is already due
    // (a zero delay): a pass ends, and the next sweep retries them.
    const tried: string[] = [];
    for (;;) {
      const batch = await notificationsRepository.claimDue(options.knex, options.batchSize, options.leaseMs, tried);
      for (const [index, row] of batch.entries()) {
        if (stopped) {
          await notificationsRepository.releaseClaims(options.knex, batch.slice(index).map((r) => r.id));
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

  return {
    sendPending,
    kick: sendInBackground,
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
      await running?.catch(() => undefined);
    },
  };
}
