import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import amqplib from 'amqplib';
import { migrate, type Knex } from '@banyan/db';
import { DOMAINS, type EventEnvelope } from '@banyan/events';
import { inboxSchema } from '@banyan/inbox';
import type { InboxOutcome } from '@banyan/inbox';
import { deleteTopology, names, startConsumers, type DeclaredTopology } from '@banyan/messaging';
import { createOutbox, outboxSchema } from '@banyan/outbox';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, testNamespace, type TestDatabase } from '@banyan/testing';
import { createRelay, type Relay, type RelayOptions } from '../src';

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const logger = createLogger('relay-test', process.env.TEST_LOG_LEVEL ?? 'silent');
export { testNamespace };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function outboxDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  await migrate(db.knex, [outboxSchema, inboxSchema]);
  return db;
}

const outbox = createOutbox({ source: '/banyan/test', origin: 'test' });

/**
 * Write `count` product.stock_changed events spread over `aggregates` products, `perTransaction`
 * per transaction, round-robin so every aggregate's events interleave with the others'.
 */
export async function writeEvents(knex: Knex, count: number, options: { aggregates?: number; perTransaction?: number; type?: string } = {}) {
  const aggregates = Array.from({ length: options.aggregates ?? 50 }, () => randomUUID());
  const perTransaction = options.perTransaction ?? 100;
  const written: string[] = [];
  for (let start = 0; start < count; start += perTransaction) {
    await knex.transaction(async (trx) => {
      for (let i = start; i < Math.min(count, start + perTransaction); i++) {
        const productId = aggregates[i % aggregates.length];
        const e = await outbox.add(trx, {
          type: options.type ?? 'product.stock_changed',
          subject: productId,
          data: { productId, delta: 1, stock: i, reason: 'adjustment' },
        });
        written.push(e.id);
      }
    });
  }
  return { ids: written, aggregates };
}

export function startRelay(db: TestDatabase, namespace: string, overrides: Partial<RelayOptions> = {}): Promise<Relay> & { relay?: Relay } {
  const relay = createRelay({
    database: db.settings,
    url: RABBITMQ_URL,
    logger,
    namespace,
    pollIntervalMs: 200,
    leaseTtlMs: 1_500,
    retryDelayMs: 100,
    maxRetryDelayMs: 400,
    confirmTimeoutMs: 3_000,
    heartbeatSeconds: 2,
    ...overrides,
  });
  return relay.start().then(() => relay);
}

/**
 * A queue of the test's own bound to every routing key of the given domain exchanges: it sees
 * exactly what the broker routed, in the order the broker received it.
 */
export async function captureQueue(namespace: string, domains: string[] = ['products']) {
  const n = names(namespace);
  const connection = await amqplib.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  const queue = `${namespace}capture`;
  for (const d of domains) await channel.assertExchange(n.exchange(d), 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  for (const d of domains) await channel.bindQueue(queue, n.exchange(d), '#');
  const received: Array<EventEnvelope & { _properties: amqplib.MessageProperties }> = [];
  await channel.prefetch(500);
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    received.push({ ...JSON.parse(msg.content.toString()), _properties: msg.properties });
    channel.ack(msg);
  });
  return {
    queue,
    received,
    distinct: () => new Set(received.map((e) => e.id)).size,
    async waitFor(count: number, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (new Set(received.map((e) => e.id)).size < count && Date.now() < deadline) await sleep(50);
      return new Set(received.map((e) => e.id)).size;
    },
    async close() {
      await channel.deleteQueue(queue).catch(() => undefined);
      // The relay asserts every domain exchange of its namespace: remove them all.
      for (const d of DOMAINS) await channel.deleteExchange(n.exchange(d)).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

/**
 * Per aggregate, the sequences in the order they first arrived must be 1, 2, 3 … with no gap:
 * a repeat (an at-least-once duplicate) is allowed, an overtaking or a hole is not.
 */
export function orderViolations(received: Array<Pick<EventEnvelope, 'id' | 'subject' | 'sequence'>>): string[] {
  const seen = new Set<string>();
  const next = new Map<string, number>();
  const violations: string[] = [];
  for (const e of received) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const expected = next.get(e.subject) ?? 1;
    if (e.sequence !== expected) violations.push(`${e.subject}: got ${e.sequence}, expected ${expected}`);
    next.set(e.subject, e.sequence + 1);
  }
  return violations;
}

export function duplicates(received: Array<Pick<EventEnvelope, 'id'>>): number {
  return received.length - new Set(received.map((e) => e.id)).size;
}

/**
 * A consumer of product.stock_changed behind the inbox, applying one effect per event (a plain
 * insert keyed by the event id, so a second application would fail loudly). `outcomes` counts
 * what the inbox did with each delivery: a repeat the relay sent is a `duplicate`.
 */
export async function effectsConsumer(db: TestDatabase, namespace: string) {
  await db.knex.raw('CREATE TABLE IF NOT EXISTS effects (event_id uuid PRIMARY KEY, applied_at timestamptz DEFAULT now())');
  const outcomes: Record<InboxOutcome, number> = { processed: 0, duplicate: 0 };
  const consumers = await startConsumers({
    url: RABBITMQ_URL,
    knex: db.knex,
    logger,
    namespace,
    prefetch: 200,
    subscriptions: [
      {
        consumer: 'effects',
        eventType: 'product.stock_changed',
        handle: async (event, trx: Knex.Transaction) => {
          await trx('effects').insert({ event_id: event.id });
        },
      },
    ],
    onProcessed: (_event, outcome) => {
      outcomes[outcome]++;
    },
  });
  return {
    outcomes,
    effects: async () => Number((await db.knex('effects').count<{ n: string }[]>('* as n'))[0].n),
    /** Wait until the inbox has seen `deliveries` messages (first copies and repeats). */
    async waitFor(deliveries: number, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (outcomes.processed + outcomes.duplicate < deliveries && Date.now() < deadline) await sleep(50);
    },
    async close() {
      await consumers.close();
      await dropTopology(consumers.topology);
    },
  };
}

/** How many times each event id arrived, and the ids that arrived more than once. */
export function repeatedIds(received: Array<Pick<EventEnvelope, 'id'>>): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const e of received) (seen.has(e.id) ? repeated : seen).add(e.id);
  return repeated;
}

export async function dropTopology(topology: DeclaredTopology) {
  const connection = await amqplib.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  await deleteTopology(channel, topology).catch(() => undefined);
  await connection.close();
}

/**
 * A TCP proxy between a relay and the broker, so a test can cut the connection (destroy both
 * sockets) or freeze it (stop forwarding the broker's frames: confirms never come back) without
 * touching the machine's RabbitMQ.
 */
export async function startProxy(target = { host: '127.0.0.1', port: 5672 }) {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let frozen = false;
  let holdingReplies = false;
  let clientBytes = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (chunk) => {
      clientBytes += chunk.length;
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!frozen && !holdingReplies) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: RABBITMQ_URL.replace(/@[^/]+/, `@127.0.0.1:${port}`),
    connections: () => pairs.size,
    clientBytes: () => clientBytes,
    /** Drop every connection through the proxy (the relay sees a reset). */
    cut() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
    /** Keep the sockets open but forward nothing: a silent network partition. */
    freeze() {
      frozen = true;
    },
    /** Forward the relay's frames but none of the broker's: messages arrive, confirms never return. */
    holdReplies() {
      holdingReplies = true;
    },
    resume() {
      frozen = false;
      holdingReplies = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/** The compiled relay (`npx tsc -b packages/relay`; `npm test` builds before jest). */
export const RELAY_MAIN = path.resolve(__dirname, '../dist/main.js');

export interface Child {
  process: ChildProcess;
  output: () => string;
  /** Resolves when a line of the child's stdout matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill9(): Promise<void>;
}

export function spawnNode(script: string, env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    output: () => out,
    async waitForLine(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = out.split('\n').find((l) => pattern.test(l));
        if (line) return line;
        if (child.exitCode !== null) throw new Error(`child exited (${child.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${out}`);
        await sleep(20);
      }
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export function childEnv(db: TestDatabase, namespace: string, url = RABBITMQ_URL): NodeJS.ProcessEnv {
  return {
    RELAY_DATABASE: db.settings.database,
    PGHOST: db.settings.host,
    PGPORT: String(db.settings.port),
    PGUSER: db.settings.user,
    ...(db.settings.password ? { PGPASSWORD: db.settings.password } : {}),
    RABBITMQ_URL: url,
    RELAY_NAMESPACE: namespace,
    RELAY_LEASE_TTL_MS: '1500',
    RELAY_POLL_INTERVAL_MS: '200',
    RELAY_HEARTBEAT_SECONDS: '2',
    LOG_LEVEL: 'info',
  };
}

export async function unpublished(knex: Knex): Promise<number> {
  const row = await knex('outbox.events').whereNull('published_at').count<{ n: string }[]>('* as n');
  return Number(row[0].n);
}
