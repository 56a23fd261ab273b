import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import amqp from 'amqplib';
import { Client } from 'pg';
import { deleteNamespaceTopology, dropDatabasesWithPrefix, eventually, freePort, testNamespace } from '@banyan/testing';

/**
 * runService is a service's whole `main` (extracted/<name>/src/main.ts is one call of it), so it is
 * tested as one: a real child process on the built package (`npm run build` first, as `npm test`
 * does), against this machine's PostgreSQL and RabbitMQ under a database prefix and a broker
 * namespace of its own, stopped the way a supervisor stops it.
 */
const fixture = path.join(__dirname, 'fixtures/run-things.js');
const prefix = `test_runsvc_${randomBytes(3).toString('hex')}_`;
const namespace = testNamespace('run-service');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [fixture], {
    cwd: path.resolve(__dirname, '../../..'),
    env: { PATH: process.env.PATH, BANYAN_DATABASE_PREFIX: prefix, BANYAN_MQ_NAMESPACE: namespace, LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Resolves with the exit code, or rejects if the process is still running after `ms`. */
const exitWithin = (r: Run, ms: number) =>
  Promise.race([r.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${r.output()}`)), ms).unref())]);

const running: Run[] = [];
afterAll(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await dropDatabasesWithPrefix(prefix);
  await deleteNamespaceTopology(namespace);
}, 60_000);

describe('runService, a service main', () => {
  test('When started on a database that does not exist, then it creates and migrates it, serves, relays its outbox to the broker, and on SIGTERM stops in order and exits 0', async () => {
    const port = await freePort();
    const r = run({ PORT: String(port), SERVICE_DATABASE: 'things_service' });
    running.push(r);
    const url = `http://127.0.0.1:${port}`;

    await eventually(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200), { timeoutMs: 30_000 });
    // A queue of the test's own for the event: the relay publishes mandatory, and an event no queue
    // takes stays unpublished (retried) rather than lost.
    const broker = await amqp.connect(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    const channel = await broker.createChannel();
    await channel.assertExchange(`${namespace}products`, 'topic', { durable: true });
    const { queue } = await channel.assertQueue(`${namespace}run-service.product.created`, { exclusive: true });
    await channel.bindQueue(queue, `${namespace}products`, 'product.created');
    const id = randomUUID();
    const created = await fetch(`${url}/api/things?id=${id}`, { method: 'POST' });
    expect(created.status).toBe(201);

    // The database was created under the prefix, and the in-process relay published the event.
    const db = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: `${prefix}things_service` });
    await db.connect();
    try {
      await eventually(async () => {
        const { rows } = await db.query<{ published: boolean }>('SELECT published_at IS NOT NULL AS published FROM outbox.events WHERE aggregate_id = $1', [id]);
        expect(rows).toEqual([{ published: true }]);
      }, { timeoutMs: 15_000 }).catch((err: Error) => { throw new Error(`${err.message}\n${r.output()}`); });
    } finally {
      await db.end();
    }
    const message = await channel.get(queue, { noAck: true });
    await broker.close();
    expect(message && JSON.parse(message.content.toString())).toMatchObject({ type: 'product.created', subject: id, origin: 'things-service' });
    expect(r.output()).toMatch(/things-service listening/);

    r.child.kill('SIGTERM');
    expect(await exitWithin(r, 20_000)).toBe(0);
    const out = r.output();
    expect(out).toMatch(/shutting down/);
    // Steps run in reverse: the HTTP server closes before the definition stops, the pool after it.
    expect(out.indexOf('things-service: definition stopped')).toBeGreaterThan(out.indexOf('shutting down'));
    expect(out).toMatch(/"msg":"stopped"/);
    await expect(fetch(`${url}/readyz`)).rejects.toThrow();
  }, 60_000);

  test('When a variable is bad, then it exits 1 before touching anything, naming the variable', async () => {
    const r = run({ PORT: '70000', SERVICE_RELAY: 'maybe' });
    running.push(r);

    expect(await exitWithin(r, 20_000)).toBe(1);
    expect(r.output()).toMatch(/things-service: [\s\S]*PORT[\s\S]*SERVICE_RELAY/);
  }, 30_000);

  test('When PostgreSQL cannot be reached, then it exits 1 saying where it looked and how to start it', async () => {
    const closed = await freePort();
    const r = run({ PORT: String(await freePort()), PGPORT: String(closed) });
    running.push(r);

    expect(await exitWithin(r, 30_000)).toBe(1);
    expect(r.output()).toMatch(new RegExp(`things-service: failed to start: cannot reach PostgreSQL at [^\\n]*${closed}[^\\n]*start it with`));
  }, 40_000);
});
