import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@banyan/events';
import { testNamespace } from '@banyan/testing';
import { deleteTopology, encode, names, publishOptions, type DeclaredTopology } from '../src';

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A namespace of this test file's own, so files run in parallel on one broker (and the purge finds it). */
export { testNamespace };

export function envelope<T>(type: string, subject: string, sequence: number, data: T): EventEnvelope<T> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: '/banyan/test',
    type,
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    sequence,
    origin: 'test',
    data,
  };
}

/** Publish as the relay does (persistent, mandatory, trace headers), confirmed. */
export async function publishEvents(namespace: string, events: EventEnvelope[], raw?: (e: EventEnvelope) => Buffer) {
  const connection = await amqplib.connect(RABBITMQ_URL);
  const channel = await connection.createConfirmChannel();
  const n = names(namespace);
  for (const e of events) channel.publish(n.exchangeOf(e.type), e.type, raw ? raw(e) : encode(e), publishOptions(e));
  await channel.waitForConfirms();
  await connection.close();
}

export async function dropTopology(topology: DeclaredTopology) {
  const connection = await amqplib.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  await deleteTopology(channel, topology);
  await connection.close();
}
