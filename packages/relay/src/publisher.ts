import { once } from 'node:events';
import amqplib, { type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import type { Logger } from '@banyan/telemetry';

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/**
 * How one publish ended. `returned` and `nacked` are the message's own failures (it counts
 * towards parking); `transport` means the connection could not tell us (lost, or no confirm in
 * time) and says nothing about the message, so it does not count.
 */
export type PublishResult = { ok: true } | { ok: false; kind: 'returned' | 'nacked' | 'transport'; error: string };

const CONFIRMED: PublishResult = Object.freeze({ ok: true });

export interface PublisherOptions {
  url: string;
  logger: Logger;
  /** AMQP heartbeat: a dead peer is noticed in about twice this. Default 5 s. */
  heartbeatSeconds?: number;
  /** A batch whose confirms have not all come by then fails and the connection is replaced. Default 10 s. */
  confirmTimeoutMs?: number;
  /** First reconnect delay; doubles to 5 s. Default 100 ms. */
  reconnectDelayMs?: number;
  /** Topic exchanges asserted on every (re)connect, before anything is published. */
  exchanges?: string[];
}

/**
 * One confirm channel on one connection, replaced whenever it breaks. Written over amqplib
 * rather than amqp-connection-manager (ADR 0103): that library re-sends unconfirmed messages by
 * itself after a reconnect, behind messages queued later, which reorders an aggregate's events;
 * here a broken batch simply fails and the relay re-reads it from the outbox, the one buffer.
 */
export class ConfirmPublisher {
  private connection?: ChannelModel;
  private channel?: ConfirmChannel;
  private blocked = false;
  private channelGeneration = 0;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly returned = new Map<string, string>();
  private readonly asserted = new Set<string>();
  private readonly onBroken = new Set<(reason: string) => void>();
  private readonly loop: Promise<void>;
  /** Resolves when the batch before has handed its last message to the channel. */
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly options: PublisherOptions) {
    this.loop = this.connectLoop();
  }

  get connected(): boolean {
    return !!this.channel;
  }

  /** Changes with every new channel: publishes of two generations are not ordered with each other. */
  get generation(): number {
    return this.channelGeneration;
  }

  /** Resolves when a channel is open and the broker is not blocking us (back-pressure). */
  async ready(signal?: AbortSignal): Promise<void> {
    while (!this.closed && !signal?.aborted && (!this.channel || this.blocked)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /**
   * Publish every message without waiting between them (pipelined), then wait for all confirms:
   * one promise per batch, settled by the last confirm. Respects `drain` when the socket's buffer
   * is full. Results are in the messages' order. Several batches may be outstanding: each starts
   * sending only once the one before has sent its last message, so a batch paused on `drain`
   * cannot be overtaken by the next and the channel carries them in call order.
   */
  async publishBatch(messages: OutgoingMessage[], generation?: number): Promise<PublishResult[]> {
    if (messages.length === 0) return [];
    const before = this.sending;
    let sent!: () => void;
    this.sending = new Promise<void>((resolve) => (sent = resolve));
    try {
      await before;
      return await this.sendBatch(messages, generation, sent);
    } finally {
      sent();
    }
  }

  private async sendBatch(messages: OutgoingMessage[], generation: number | undefined, sent: () => void): Promise<PublishResult[]> {
    const results: Array<PublishResult | undefined> = new Array(messages.length);
    const channel = this.channel;
    const fillTransport = (error: string) => {
      for (let i = 0; i < results.length; i++) results[i] ??= { ok: false, kind: 'transport', error };
    };
    if (!channel) {
      fillTransport('not connected to RabbitMQ');
      return results as PublishResult[];
    }
    if (generation !== undefined && generation !== this.channelGeneration) {
      // The batch before this one went out on a channel that is gone; sending this one on the
      // new channel could put it ahead of that batch's re-sends. It is not sent at all.
      fillTransport('channel replaced since the previous batch');
      return results as PublishResult[];
    }
    let pending = messages.length;
    let settle!: () => void;
    const allSettled = new Promise<void>((resolve) => (settle = resolve));
    const set = (i: number, result: PublishResult) => {
      if (results[i]) return;
      results[i] = result;
      if (--pending === 0) settle();
    };
    const broken = (reason: string) => {
      for (let i = 0; i < results.length; i++) if (!results[i]) set(i, { ok: false, kind: 'transport', error: reason });
    };
    this.onBroken.add(broken);
    const timer = setTimeout(() => {
      // amqplib keeps waiting for confirms on a socket that died silently; the heartbeat would
      // notice eventually, but the batch must not wait longer than this.
      broken(`no confirm within ${this.options.confirmTimeoutMs ?? 10_000} ms`);
      this.replaceConnection('confirm timeout');
    }, this.options.confirmTimeoutMs ?? 10_000);

    try {
      for (const exchange of new Set(messages.map((m) => m.exchange))) {
        if (this.asserted.has(exchange)) continue;
        // Asserting before publishing: publishing to a missing exchange closes the channel (404),
        // asserting makes the unroutable case a return, which the relay can handle.
        await channel.assertExchange(exchange, 'topic', { durable: true });
        this.asserted.add(exchange);
      }
      for (let i = 0; i < messages.length && pending > 0 && this.channel === channel; i++) {
        const m = messages[i];
        const id = String(m.options.messageId);
        m.options.mandatory = true;
        const hasRoom = channel.publish(m.exchange, m.routingKey, m.content, m.options, (err) => {
          if (err) {
            // amqplib fails every callback with "channel closed" when the channel goes; only a
            // real basic.nack is the broker refusing this message.
            set(i, { ok: false, kind: /nack/i.test(err.message) ? 'nacked' : 'transport', error: err.message });
          } else {
            // The broker sends basic.return before the basic.ack of the same message.
            const returned = this.returned.get(id);
            this.returned.delete(id);
            set(i, returned ? { ok: false, kind: 'returned', error: returned } : CONFIRMED);
          }
        });
        if (!hasRoom) await Promise.race([once(channel, 'drain'), allSettled]);
      }
    } catch (err) {
      broken(`publish failed: ${(err as Error).message}`);
    }
    if (this.channel !== channel) broken('connection lost');
    sent();
    await allSettled;
    clearTimeout(timer);
    this.onBroken.delete(broken);
    return results as PublishResult[];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.connection?.close().catch(() => undefined);
    await this.loop;
  }

  private wake() {
    for (const w of [...this.waiters]) w();
  }

  private replaceConnection(reason: string) {
    const connection = this.connection;
    if (!connection) return;
    this.options.logger.warn({ reason }, 'replacing the RabbitMQ connection');
    this.dropChannel(reason);
    // close() itself can hang on a dead socket; the stream is destroyed under it.
    (connection as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    connection.close().catch(() => undefined);
  }

  private dropChannel(reason: string) {
    this.channel = undefined;
    this.returned.clear();
    for (const broken of [...this.onBroken]) broken(reason);
  }

  private async connectLoop(): Promise<void> {
    const base = this.options.reconnectDelayMs ?? 100;
    let delay = base;
    while (!this.closed) {
      try {
        const url = new URL(this.options.url);
        if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds ?? 5));
        const connection = await amqplib.connect(url.toString(), { timeout: 5_000 });
        const closedPromise = new Promise<string>((resolve) => {
          connection.on('close', (err?: Error) => resolve(err?.message ?? 'connection closed'));
        });
        connection.on('error', (err: Error) => this.options.logger.warn({ err: err.message }, 'RabbitMQ connection error'));
        connection.on('blocked', (reason: string) => {
          this.blocked = true;
          this.options.logger.warn({ reason }, 'RabbitMQ blocked publishing; waiting');
        });
        connection.on('unblocked', () => {
          this.blocked = false;
          this.options.logger.info('RabbitMQ unblocked publishing');
          this.wake();
        });
        this.asserted.clear();
        const channel = await connection.createConfirmChannel();
        channel.on('error', (err: Error) => this.options.logger.warn({ err: err.message }, 'RabbitMQ channel error'));
        // A channel error (e.g. an exchange redeclared with another type) leaves the connection
        // up but the channel dead: start over with both.
        channel.on('close', () => {
          if (this.channel === channel && !this.closed) this.replaceConnection('channel closed');
        });
        channel.on('return', (msg: { properties: { messageId?: string }; fields: { replyText: string; exchange: string; routingKey: string } }) => {
          const { replyText, exchange, routingKey } = msg.fields;
          this.returned.set(String(msg.properties.messageId), `returned by RabbitMQ: ${replyText} (exchange "${exchange}", routing key "${routingKey}")`);
        });
        for (const exchange of this.options.exchanges ?? []) {
          await channel.assertExchange(exchange, 'topic', { durable: true });
          this.asserted.add(exchange);
        }
        this.connection = connection;
        this.channel = channel;
        this.channelGeneration++;
        this.blocked = false;
        delay = base;
        this.options.logger.info('connected to RabbitMQ');
        this.wake();
        const reason = await closedPromise;
        this.connection = undefined;
        this.dropChannel(reason);
        if (!this.closed) this.options.logger.warn({ reason }, 'RabbitMQ connection lost; reconnecting');
      } catch (err) {
        if (!this.closed) this.options.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'RabbitMQ unreachable; retrying');
      }
      if (this.closed) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
    this.dropChannel('publisher closed');
  }
}
