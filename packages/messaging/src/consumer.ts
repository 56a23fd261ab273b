import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Knex } from 'knex';
import type { EventEnvelope } from '@banyan/events';
import type { InboxOutcome, Subscription } from '@banyan/inbox';
import type { Logger } from '@banyan/telemetry';
import { messageHandler } from './handling';
import { consumerMetrics } from './metrics';
import { names as makeNames } from './names';
import { parse } from './parse';
import { DEFAULT_RETRY, declareTopology, type DeclaredTopology, type RetryPolicy } from './topology';

export interface ConsumerOptions {
  url: string;
  knex: Knex;
  subscriptions: Subscription[];
  logger: Logger;
  /** Unacknowledged messages per queue. Default 20. */
  prefetch?: number;
  /** Prefix of every exchange and queue name (tests); empty → the contract's names. */
  namespace?: string;
  retry?: RetryPolicy;
  heartbeatSeconds?: number;
  /** How long the first connection may take before `startConsumers` fails. Default 30 s. */
  connectTimeoutMs?: number;
  /**
   * Called after a message's inbox transaction committed and before its ack: the point where a
   * crash leaves an applied event unacknowledged. Metrics hang here; the fault tests stop here.
   */
  onProcessed?: (event: EventEnvelope, outcome: InboxOutcome, queue: string) => void | Promise<void>;
}

export interface Consumers {
  topology: DeclaredTopology;
  /** Stop taking messages, finish (and ack) the ones in hand, close the connection. */
  close(): Promise<void>;
}

/**
 * Deliver each subscription's queue to its handler through the inbox: manual acks, schema
 * validation (an invalid message is dead-lettered with its reason, never retried), retries with
 * growing delays through the retry queues, then dead-lettering with the last error.
 *
 * This file is the subscription side: the queues, the connection and its channel, and the order
 * messages run in (one aggregate's events one after another); what happens to each message is
 * handling.ts, and parse.ts says whether it is an event at all.
 */
export async function startConsumers(options: ConsumerOptions): Promise<Consumers> {
  const { knex, logger, subscriptions } = options;
  const n = makeNames(options.namespace);
  const retry = options.retry ?? DEFAULT_RETRY;
  const prefetch = options.prefetch ?? 20;
  const handle = messageHandler({ knex, logger, names: n, retry, metrics: consumerMetrics(), onProcessed: options.onProcessed });
  const bindings = subscriptions.map((s) => ({ consumer: s.consumer, eventType: s.eventType, exchange: s.exchange }));
  const queues = new Set<string>();
  for (const { consumer, eventType } of bindings) {
    const queue = n.queue(consumer, eventType);
    // Two handlers on one queue would each get half the messages: refuse rather than surprise.
    if (queues.has(queue)) throw new Error(`Two subscriptions share the queue "${queue}"`);
    queues.add(queue);
  }

  let topology: DeclaredTopology = { exchanges: [], queues: [] };
  let closing = false;
  const inFlight = new Set<Promise<void>>();
  /** Per queue and aggregate, the tail of its processing chain: one aggregate's events run in order. */
  const chains = new Map<string, Promise<void>>();
  const consumerTags = new Map<ConfirmChannel, string[]>();

  const connection: AmqpConnectionManager = amqp.connect([options.url], {
    heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 5,
    reconnectTimeInSeconds: 1,
  });
  connection.on('disconnect', ({ err }) => {
    if (!closing) logger.warn({ err: err?.message }, 'RabbitMQ connection lost; reconnecting');
  });
  connection.on('blocked', ({ reason }) => logger.warn({ reason }, 'RabbitMQ blocked the connection'));

  const channel: ChannelWrapper = connection.createChannel({
    name: 'banyan-consumers',
    confirm: true,
    // Runs on every (re)connect: the topology is re-asserted and each consumer registered on the
    // new channel, which is why acks are sent on the channel a message came from (handling.ts).
    setup: async (ch: ConfirmChannel) => {
      topology = await declareTopology(ch, { namespace: n.namespace, bindings, retry });
      await ch.prefetch(prefetch);
      const tags: string[] = [];
      consumerTags.set(ch, tags);
      ch.on('close', () => consumerTags.delete(ch));
      for (const sub of subscriptions) {
        const queue = n.queue(sub.consumer, sub.eventType);
        const { consumerTag } = await ch.consume(queue, (msg) => msg && dispatch(ch, queue, sub, msg), { noAck: false });
        tags.push(consumerTag);
      }
    },
  });
  channel.on('error', (err) => logger.error({ err }, 'consumer channel setup failed'));

  function dispatch(ch: ConfirmChannel, queue: string, sub: Subscription, msg: ConsumeMessage) {
    const parsed = parse(msg, sub.eventType);
    const key = parsed.ok ? `${queue}|${parsed.event.subject}` : `${queue}|invalid|${msg.fields.deliveryTag}`;
    const previous = chains.get(key) ?? Promise.resolve();
    const run = previous
      .then(() => handle(ch, queue, sub, msg, parsed))
      // Left unacked, the message comes back when this channel closes; nothing else to do here.
      .catch((err: unknown) => logger.error({ err, queue }, 'message left unacknowledged'));
    chains.set(key, run);
    const tracked = run.finally(() => {
      inFlight.delete(tracked);
      if (chains.get(key) === run) chains.delete(key);
    });
    inFlight.add(tracked);
  }

  const timeout = options.connectTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      channel.waitForConnect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`RabbitMQ not reachable at ${redact(options.url)} within ${timeout} ms`)), timeout);
      }),
    ]);
  } catch (err) {
    closing = true;
    await channel.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  logger.info({ queues: [...queues] }, 'consumers started');

  return {
    get topology() {
      return topology;
    },
    async close() {
      if (closing) return;
      closing = true;
      for (const [ch, tags] of consumerTags) {
        for (const tag of tags) await ch.cancel(tag).catch(() => undefined);
      }
      // Finish what was taken: each message's effects commit and its ack goes out before the
      // channel closes, so a clean stop causes no redelivery.
      while (inFlight.size) await Promise.allSettled([...inFlight]);
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
