import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Knex } from 'knex';
import { envelopeSchema, eventSchemas, type EventEnvelope } from '@banyan/events';
import { processOnce, type InboxOutcome, type Subscription } from '@banyan/inbox';
import type { Logger } from '@banyan/telemetry';
import { consumerMetrics } from './metrics';
import { HEADERS, names as makeNames } from './names';
import { DEFAULT_RETRY, declareTopology, type DeclaredTopology, type RetryPolicy } from './topology';
import { extractContext } from './wire';

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

const tracer = trace.getTracer('@banyan/messaging');

/**
 * Deliver each subscription's queue to its handler through the inbox: manual acks, schema
 * validation (an invalid message is dead-lettered with its reason, never retried), retries with
 * growing delays through the retry queues, then dead-lettering with the last error.
 */
export async function startConsumers(options: ConsumerOptions): Promise<Consumers> {
  const { knex, logger, subscriptions } = options;
  const n = makeNames(options.namespace);
  const retry = options.retry ?? DEFAULT_RETRY;
  const prefetch = options.prefetch ?? 20;
  const metrics = consumerMetrics();
  const bindings = subscriptions.map((s) => ({ consumer: s.consumer, eventType: s.eventType }));
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
    // new channel, which is why acks are sent on the channel a message came from (below).
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

  async function handle(ch: ConfirmChannel, queue: string, sub: Subscription, msg: ConsumeMessage, parsed: Parsed): Promise<void> {
    const stopwatch = metrics.received(queue, msg.fields.redelivered);
    if (!parsed.ok) {
      logger.warn({ queue, messageId: msg.properties.messageId, reason: parsed.reason }, 'invalid event dead-lettered');
      metrics.deadLettered(queue, 'invalid');
      return deadLetter(ch, queue, msg, parsed.reason);
    }
    const event = parsed.event;
    const parent = extractContext(msg.properties.headers, event);
    // `<destination> process`, the destination being the queue (messaging.destination.name below).
    await tracer.startActiveSpan(
      `${queue} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': queue,
          'messaging.message.id': event.id,
          'messaging.rabbitmq.destination.routing_key': msg.fields.routingKey,
          'banyan.consumer': sub.consumer,
        },
      },
      parent,
      async (span) => {
        try {
          let outcome: InboxOutcome;
          try {
            outcome = await processOnce(knex, sub.consumer, event, sub.handle);
          } catch (err) {
            metrics.failed(stopwatch);
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            return await retryOrDeadLetter(ch, queue, msg, err as Error);
          }
          metrics.processed(queue, outcome, stopwatch);
          span.setAttribute('banyan.inbox.outcome', outcome);
          if (outcome === 'duplicate') logger.debug({ queue, eventId: event.id }, 'duplicate event ignored');
          await options.onProcessed?.(event, outcome, queue);
          ack(ch, msg);
        } finally {
          span.end();
        }
      },
    );
  }

  async function retryOrDeadLetter(ch: ConfirmChannel, queue: string, msg: ConsumeMessage, err: Error) {
    const attempt = Number(msg.properties.headers?.[HEADERS.attempt] ?? 0) + 1;
    if (attempt >= retry.maxAttempts) {
      metrics.deadLettered(queue, 'exhausted');
      logger.error({ queue, messageId: msg.properties.messageId, attempt, err }, 'event dead-lettered after retries');
      return deadLetter(ch, queue, msg, `handler failed ${attempt} times`, err.message);
    }
    const level = Math.min(attempt - 1, retry.delaysMs.length - 1);
    metrics.retried(queue);
    logger.warn({ queue, messageId: msg.properties.messageId, attempt, delayMs: retry.delaysMs[level], err: err.message }, 'handler failed; retrying later');
    await republish(ch, msg, n.retryLevel(level), queue, { [HEADERS.attempt]: attempt, [HEADERS.error]: err.message, [HEADERS.queue]: queue });
  }

  async function deadLetter(ch: ConfirmChannel, queue: string, msg: ConsumeMessage, reason: string, error?: string) {
    await republish(ch, msg, n.deadLetterExchange, queue, {
      [HEADERS.reason]: reason,
      [HEADERS.queue]: queue,
      ...(error ? { [HEADERS.error]: error } : {}),
    });
  }

  /**
   * Move a message elsewhere, then ack the original, in that order: a crash in between leaves
   * both copies (the inbox makes the second harmless), never neither.
   */
  async function republish(ch: ConfirmChannel, msg: ConsumeMessage, exchange: string, routingKey: string, headers: Record<string, unknown>) {
    const properties: Options.Publish = {
      ...msg.properties,
      persistent: true,
      headers: { ...msg.properties.headers, ...headers },
    };
    try {
      await new Promise<void>((resolve, reject) => {
        ch.publish(exchange, routingKey, msg.content, properties, (err) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      // Channel gone: the broker will redeliver the original, and this decision is taken again.
      logger.warn({ err: (err as Error).message, exchange }, 'could not move message; it will be redelivered');
      return;
    }
    ack(ch, msg);
  }

  function ack(ch: ConfirmChannel, msg: ConsumeMessage) {
    try {
      ch.ack(msg);
    } catch (err) {
      // The channel this message came from is closed: its delivery tag means nothing on the new
      // one. The broker redelivers it and the inbox recognises it.
      logger.debug({ err: (err as Error).message }, 'ack dropped with its closed channel');
    }
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

type Parsed = { ok: true; event: EventEnvelope } | { ok: false; reason: string };

function parse(msg: ConsumeMessage, expectedType: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(msg.content.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, reason: `invalid envelope: ${describeIssues(envelope.error.issues)}` };
  if (envelope.data.type !== expectedType) {
    return { ok: false, reason: `event type "${envelope.data.type}" arrived on the queue of "${expectedType}"` };
  }
  const schema = eventSchemas[expectedType as keyof typeof eventSchemas];
  if (schema) {
    const data = schema.safeParse(envelope.data.data);
    if (!data.success) return { ok: false, reason: `invalid ${expectedType} data: ${describeIssues(data.error.issues)}` };
    return { ok: true, event: { ...(envelope.data as EventEnvelope), data: data.data } };
  }
  return { ok: true, event: envelope.data as EventEnvelope };
}

function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
