import amqplib, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Knex } from '@banyan/db';
import type { EventEnvelope } from '@banyan/events';
import { recordProgress, type ProjectionVersion } from '@banyan/sync';
import type { Logger } from '@banyan/telemetry';
import { ANALYTICS_SCHEMA, type Definition } from '../data/projection-tables';
import { analyticsRepository } from '../data/repository';
import { PROJECTED_TYPES, projectEvents } from '../domain/project-events';

export interface HistoryReaderOptions {
  knex: Knex;
  connection: ChannelModel;
  /** The history stream's name (`banyan.history`, namespaced in tests). */
  stream: string;
  logger: Logger;
  /** Events applied per transaction, at most. */
  batchSize: number;
}

/**
 * Reads the history stream into one projection version, from the offset after the last one it
 * applied. Each batch is one transaction: the ids of its events not applied before, their effects,
 * and the new offset, so a crash anywhere resumes at the last committed offset and an event that
 * is in the history twice (a relay's re-send) is applied once.
 */
export class HistoryReader {
  private channel?: Channel;
  private buffer: ConsumeMessage[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private offset: number;
  private readonly store;

  constructor(
    readonly version: ProjectionVersion,
    definition: Definition,
    private readonly options: HistoryReaderOptions,
  ) {
    this.offset = version.offset;
    this.store = analyticsRepository(version.schema, definition);
  }

  async start(): Promise<void> {
    // Consuming a missing queue closes the channel with a 404 that says nothing of why.
    const probe = await this.options.connection.createChannel();
    probe.on('error', () => undefined);
    try {
      await probe.checkQueue(this.options.stream);
    } catch {
      throw new Error(`the history stream ${this.options.stream} is not declared yet: the relay declares it at start (ADR 0110)`);
    } finally {
      await probe.close().catch(() => undefined);
    }
    const channel = await this.options.connection.createChannel();
    // A stream consumer must have a prefetch: it is how many messages the broker sends ahead.
    await channel.prefetch(this.options.batchSize * 2);
    channel.on('error', (err: Error) => this.options.logger.warn({ err: err.message, version: this.version.version }, 'history channel error'));
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.channel = channel;
    await channel.consume(this.options.stream, (msg) => msg && this.receive(msg), {
      noAck: false,
      arguments: { 'x-stream-offset': this.offset < 0 ? 'first' : this.offset + 1 },
    });
  }

  async stop(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    clearTimeout(this.timer);
    await channel?.close().catch(() => undefined);
    await this.flushing;
  }

  private receive(msg: ConsumeMessage) {
    this.buffer.push(msg);
    if (this.buffer.length >= this.options.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 20);
  }

  private flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (!batch.length) return;
    this.flushing = this.flushing.then(() => this.apply(batch)).catch((err: Error) => {
      // Nothing of the batch was committed; closing the channel makes the supervisor start the
      // version again from its committed offset.
      this.options.logger.error({ err: err.message, version: this.version.version }, 'projection batch failed; restarting from the last committed offset');
      void this.stop();
    });
  }

  get running(): boolean {
    return !!this.channel;
  }

  private async apply(batch: ConsumeMessage[]): Promise<void> {
    const channel = this.channel;
    if (!channel) return;
    const events: EventEnvelope[] = [];
    let last = this.offset;
    for (const msg of batch) {
      const offset = Number(msg.properties.headers?.['x-stream-offset']);
      // A stream is delivered by whole chunks: the first can start before the offset asked for.
      if (offset <= last) continue;
      last = offset;
      const event = JSON.parse(msg.content.toString()) as EventEnvelope;
      if (PROJECTED_TYPES.has(event.type)) events.push(event);
    }
    if (last === this.offset) return channel.ack(batch[batch.length - 1], true);
    await this.options.knex.transaction(async (trx) => {
      const fresh = await this.store.claimEvents(trx, [...new Set(events.map((e) => e.id))]);
      const firstTime = events.filter((e) => fresh.delete(e.id));
      await this.store.apply(trx, projectEvents(firstTime));
      await recordProgress(trx, ANALYTICS_SCHEMA, this.version.version, last, firstTime.length);
    });
    this.offset = last;
    if (this.channel === channel) channel.ack(batch[batch.length - 1], true);
  }
}

export const connectBroker = (url: string) => amqplib.connect(url);
