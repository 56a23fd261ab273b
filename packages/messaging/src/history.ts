import { connect, type Channel } from 'amqplib';
import { DOMAINS } from '@banyan/events';
import { names as makeNames } from './names';

export interface HistoryOptions {
  namespace?: string;
  /**
   * What the stream keeps, in bytes: RabbitMQ drops whole segments, oldest first, past it. Fixed
   * when the stream is first declared (a later declare with another value fails loudly).
   */
  maxBytes: number;
}

/** 100 MB segments (RabbitMQ's default is 500 MB): retention drops history in smaller steps. */
const SEGMENT_BYTES = 100_000_000;

/**
 * Declare the history stream and bind it to every domain exchange with `#`, so every event
 * published (by any relay, from any database) is also appended to one log that a projection can
 * read again from its first offset (ADR 0110). Idempotent: the same arguments every time.
 */
export async function declareHistory(channel: Channel, options: HistoryOptions): Promise<string> {
  const n = makeNames(options.namespace);
  await channel.assertQueue(n.history, {
    durable: true,
    arguments: { 'x-queue-type': 'stream', 'x-max-length-bytes': options.maxBytes, 'x-stream-max-segment-size-bytes': SEGMENT_BYTES },
  });
  for (const domain of DOMAINS) {
    await channel.assertExchange(n.exchange(domain), 'topic', { durable: true });
    await channel.bindQueue(n.history, n.exchange(domain), '#');
  }
  return n.history;
}

/** `declareHistory` on a short-lived connection of its own (a relay at start). */
export async function ensureHistory(url: string, options: HistoryOptions): Promise<string> {
  const connection = await connect(url);
  try {
    return await declareHistory(await connection.createChannel(), options);
  } finally {
    await connection.close();
  }
}
