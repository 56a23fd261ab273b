import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Knex } from 'knex';
import type { EventEnvelope } from '@banyan/events';
import { processOnce, type InboxOutcome, type Subscription } from '@banyan/inbox';
import type { Logger } from '@banyan/telemetry';
import type { consumerMetrics } from './metrics';
import { HEADERS, type Names } from './names';
import type { Parsed } from './parse';
import type { RetryPolicy } from './topology';
import { extractContext } from './wire';

const tracer = trace.getTracer('@banyan/messaging');

export interface MessageHandling {
  knex: Knex;
  logger: Logger;
  names: Names;
  retry: RetryPolicy;
  metrics: ReturnType<typeof consumerMetrics>;
  onProcessed?: (event: EventEnvelope, outcome: InboxOutcome, queue: string) => void | Promise<void>;
}

export type HandleMessage = (ch: ConfirmChannel, queue: string, sub: Subscription, msg: ConsumeMessage, parsed: Parsed) => Promise<void>;

/**
 * What happens to one delivered message: an invalid one is dead-lettered with its reason; a
 * valid one runs its handler through the inbox in a `<queue> process` span and is acked after
 * the inbox transaction committed; a handler that throws sends it to the next retry queue, or
 * to the dead letters once its attempts are spent. Acks go on the channel the message came from.
 */
export function messageHandler({ knex, logger, names: n, retry, metrics, onProcessed }: MessageHandling): HandleMessage {
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
          await onProcessed?.(event, outcome, queue);
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

  return handle;
}
