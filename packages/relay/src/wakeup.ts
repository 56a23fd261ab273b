import { Client } from 'pg';
import type { ConnectionSettings } from '@banyan/db';
import { OUTBOX_CHANNEL } from '@banyan/outbox';
import type { Logger } from '@banyan/telemetry';

export interface OutboxWakeupOptions {
  database: ConnectionSettings;
  instanceId: string;
  logger: Logger;
  /** Aborted when the relay stops: an idle wait ends and no LISTEN is tried again. */
  signal: AbortSignal;
}

/**
 * When the relay reads next: at once after a NOTIFY on the outbox channel, else after a poll
 * interval (the safety net when a NOTIFY is lost or the LISTEN connection is down). A NOTIFY
 * that arrives while a read is running is remembered, so the next idle returns at once: the
 * read may have taken its snapshot before that row committed.
 */
export class OutboxWakeup {
  /** A NOTIFY came (or the state is unknown) since the last read began. */
  private notified = true;
  private wakeUp?: () => void;
  private listener?: Client;

  constructor(private readonly options: OutboxWakeupOptions) {}

  /** Read again as soon as possible (a NOTIFY came, or a failed row is due). */
  readonly wake = (): void => {
    this.notified = true;
    this.wakeUp?.();
  };

  /** Called as a read begins: from now on only a new NOTIFY shortens the next idle. */
  reading(): void {
    this.notified = false;
  }

  /** Sleep until NOTIFY, `ms`, or stop; returns at once if a NOTIFY came meanwhile. */
  async idle(ms: number): Promise<void> {
    const { signal } = this.options;
    if (this.notified || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** LISTEN on its own connection; when it fails or is lost, polling covers until it is back. */
  async listen(): Promise<void> {
    const { database, instanceId, logger, signal } = this.options;
    if (signal.aborted) return;
    const client = new Client({ ...database, application_name: `banyan-relay-listen ${instanceId}` });
    client.on('notification', this.wake);
    client.on('error', (err) => {
      logger.warn({ err: err.message }, 'LISTEN connection lost; polling until it is back');
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
      setTimeout(() => this.listen().catch(() => undefined), 1_000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
      // Rows committed while we were not listening have no NOTIFY coming.
      this.wake();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'LISTEN failed; polling until it works');
      client.end().catch(() => undefined);
      setTimeout(() => this.listen().catch(() => undefined), 1_000).unref();
    }
  }

  async close(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
  }
}
