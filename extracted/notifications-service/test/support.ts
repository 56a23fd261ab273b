import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import amqplib from 'amqplib';
import type { EventEnvelope } from '@banyan/events';
import { deleteTopology, encode, publishOptions, type Consumers, type DeclaredTopology } from '@banyan/messaging';
import type { RouteMode } from '@banyan/routing-client';

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const MAIL_FROM = 'Banyan Shop <shop@banyan.local>';
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The part of the gateway's admin API both sides read: `GET /routes` behind the admin token.
 * The gateway's own tests cover the gateway; here only the switch matters, and a test must be
 * able to flip it at a known moment.
 */
export async function startRoutesServer(token: string) {
  const routes = new Map<string, { mode: RouteMode; version: number }>();
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end();
      return;
    }
    const body = { routes: [...routes].map(([domain, r]) => ({ domain, mode: r.mode, percent: 0, version: r.version })) };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    route(domain: string, mode: RouteMode) {
      routes.set(domain, { mode, version: (routes.get(domain)?.version ?? 0) + 1 });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Records what every consumer set declared, so the test's namespaced topology can be deleted. */
export function topologyRecorder() {
  const declared: DeclaredTopology[] = [];
  return {
    record(consumers: Consumers): Consumers {
      declared.push(consumers.topology);
      return consumers;
    },
    async deleteAll() {
      const connection = await amqplib.connect(RABBITMQ_URL);
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      const queues = new Set(declared.flatMap((t) => t.queues));
      const exchanges = new Set(declared.flatMap((t) => t.exchanges));
      await deleteTopology(channel, { queues: [...queues], exchanges: [...exchanges] }).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

/** The broker's view of a queue: how many consumers hold it, how many messages wait in it. */
export async function inspectQueue(queue: string): Promise<{ consumerCount: number; messageCount: number }> {
  const connection = await amqplib.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    const { consumerCount, messageCount } = await channel.checkQueue(queue);
    return { consumerCount, messageCount };
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Publish an event `times` times to a (namespaced) exchange, as the relay would when it repeats a batch. */
export async function publishEvent(exchange: string, envelope: EventEnvelope, times = 1) {
  const connection = await amqplib.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createConfirmChannel();
    for (let i = 0; i < times; i++) channel.publish(exchange, envelope.type, encode(envelope), publishOptions(envelope));
    await channel.waitForConfirms();
  } finally {
    await connection.close().catch(() => undefined);
  }
}
