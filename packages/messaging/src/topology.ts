import { connect, type Channel } from 'amqplib';
import { DOMAINS } from '@banyan/events';
import { names as makeNames, type Names } from './names';

export interface RetryPolicy {
  /** Delay before each retry, growing; the last one repeats. Default 1 s, 5 s, 30 s, 2 min. */
  delaysMs: number[];
  /** Handler failures before a message is dead-lettered with its last error. Default 5. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { delaysMs: [1_000, 5_000, 30_000, 120_000], maxAttempts: 5 };

/**
 * Redeliveries (a consumer died holding the message) the broker allows before dead-lettering it
 * itself. The handler's own failures go through the retry path and are counted by
 * `maxAttempts`; this limit catches the message that crashes the process every time.
 */
export const DELIVERY_LIMIT = 10;

export interface TopologySpec {
  namespace?: string;
  /** `<consumer>.<event type>` pairs to declare queues for. */
  bindings?: Array<{ consumer: string; eventType: string; exchange?: string }>;
  retry?: RetryPolicy;
}

/** What `declareTopology` created, so tests can delete exactly that. */
export interface DeclaredTopology {
  exchanges: string[];
  queues: string[];
}

/**
 * Declare the domain exchanges and, for each binding, its quorum queue, DLQ and retry path.
 * Every call is an assert with the same arguments, so any process may run it at every
 * (re)connect; a queue declared elsewhere with other arguments fails loudly (PRECONDITION_FAILED)
 * instead of silently behaving differently.
 */
export async function declareTopology(channel: Channel, spec: TopologySpec = {}): Promise<DeclaredTopology> {
  const n = makeNames(spec.namespace);
  const retry = spec.retry ?? DEFAULT_RETRY;
  const exchanges: string[] = [];
  const queues: string[] = [];

  for (const domain of DOMAINS) {
    await channel.assertExchange(n.exchange(domain), 'topic', { durable: true });
    exchanges.push(n.exchange(domain));
  }
  if (!spec.bindings?.length) return { exchanges, queues };

  await channel.assertExchange(n.deadLetterExchange, 'direct', { durable: true });
  await channel.assertExchange(n.requeueExchange, 'direct', { durable: true });
  exchanges.push(n.deadLetterExchange, n.requeueExchange);
  for (const [level, delay] of retry.delaysMs.entries()) {
    const name = n.retryLevel(level);
    // One shared delay queue per level (not per consumer queue): every message in it has the same
    // TTL, so expiry at the head is in order, and the original routing key (the target queue's
    // name) survives dead-lettering back through the requeue exchange.
    await channel.assertExchange(name, 'fanout', { durable: true });
    await channel.assertQueue(name, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': delay,
        'x-dead-letter-exchange': n.requeueExchange,
        // A retry waiting here must not vanish on its way back: at-least-once dead-lettering
        // (which RabbitMQ only allows with reject-publish overflow) keeps it until requeued.
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    await channel.bindQueue(name, name, '');
    exchanges.push(name);
    queues.push(name);
  }

  for (const { consumer, eventType, exchange } of spec.bindings) {
    // An exchange outside the catalog (another project's events) is declared here, not above.
    const source = exchange === undefined ? n.exchangeOf(eventType) : n.exchange(exchange);
    if (exchange !== undefined && !exchanges.includes(source)) {
      await channel.assertExchange(source, 'topic', { durable: true });
      exchanges.push(source);
    }
    const queue = n.queue(consumer, eventType);
    const dlq = n.deadLetterQueue(queue);
    await channel.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(dlq, n.deadLetterExchange, queue);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': n.deadLetterExchange,
        'x-dead-letter-routing-key': queue,
      },
    });
    await channel.bindQueue(queue, source, eventType);
    await channel.bindQueue(queue, n.requeueExchange, queue);
    queues.push(queue, dlq);
  }
  return { exchanges, queues };
}

/** Delete a namespace's topology (tests). Never called with the empty namespace by Banyan itself. */
export async function deleteTopology(channel: Channel, declared: DeclaredTopology): Promise<void> {
  for (const queue of declared.queues) await channel.deleteQueue(queue);
  for (const exchange of declared.exchanges) await channel.deleteExchange(exchange);
}

export type { Names };

/**
 * Delete what one or more `startConsumers` calls declared (tests: their namespaced topology),
 * on a short-lived connection of its own. Quorum queues hold broker file handles, so a test
 * that leaves its queues behind eventually stops the broker from accepting connections.
 */
export async function removeTopology(url: string, declared: DeclaredTopology[]): Promise<void> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    const queues = [...new Set(declared.flatMap((d) => d.queues))];
    const exchanges = [...new Set(declared.flatMap((d) => d.exchanges))];
    await deleteTopology(channel, { queues, exchanges });
  } finally {
    await connection.close();
  }
}
