import { exchangeFor } from '@banyan/events';

/**
 * Every AMQP name Banyan declares, in one place. `namespace` prefixes each name so a test file
 * (or a second environment on a shared broker) gets its own topology; empty, the names are
 * exactly the contract's (`orders`, `notification.order.created`).
 */
export interface Names {
  namespace: string;
  /** The durable topic exchange of a domain (`orders`). */
  exchange(domain: string): string;
  /** The durable topic exchange an event type is published on. */
  exchangeOf(eventType: string): string;
  /** The quorum queue of one consumer's interest in one event type. */
  queue(consumer: string, eventType: string): string;
  /** Where a queue's dead letters wait for a person, with their reason. */
  deadLetterQueue(queue: string): string;
  /** Direct exchange routing dead letters to `<queue>.dlq` by the queue's name. */
  deadLetterExchange: string;
  /** Direct exchange routing a delayed retry back to its queue by the queue's name. */
  requeueExchange: string;
  /** Fanout exchange and TTL queue of retry delay level `level`. */
  retryLevel(level: number): string;
  /** The stream every domain exchange's events are also kept in, to replay from (ADR 0110). */
  history: string;
}

export function names(namespace = ''): Names {
  return {
    namespace,
    exchange: (domain) => `${namespace}${domain}`,
    exchangeOf: (eventType) => `${namespace}${exchangeFor(eventType)}`,
    queue: (consumer, eventType) => `${namespace}${consumer}.${eventType}`,
    deadLetterQueue: (queue) => `${queue}.dlq`,
    deadLetterExchange: `${namespace}banyan.dead-letter`,
    requeueExchange: `${namespace}banyan.requeue`,
    retryLevel: (level) => `${namespace}banyan.retry.${level}`,
    history: `${namespace}banyan.history`,
  };
}

/** Headers Banyan sets on messages it moves between queues. */
export const HEADERS = {
  /** How many times a consumer has failed this message (retries so far). */
  attempt: 'x-banyan-attempt',
  /** Why a message was dead-lettered, for the person reading the DLQ. */
  reason: 'x-banyan-dead-letter-reason',
  /** The last handler error (retries and dead letters). */
  error: 'x-banyan-error',
  /** The queue a dead letter or retry came from. */
  queue: 'x-banyan-queue',
} as const;
