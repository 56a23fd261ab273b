import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import amqplib from 'amqplib';
import { DOMAINS } from '@banyan/events';
import { DEFAULT_RETRY, names } from '@banyan/messaging';
import { createTestDatabase, startSmtpServer, testNamespace, type SmtpCapture, type TestDatabase } from '@banyan/testing';
import { startOtlpReceiver } from '../otlp-receiver';

/**
 * Banyan as `npm start` runs it, in miniature: the compiled gateway, monolith and relay as real
 * child processes started with `node -r @banyan/telemetry/register`, on free ports, their own
 * databases and RabbitMQ namespace, exporting spans to an OTLP receiver of the test's own and
 * sending email to an SMTP server of the test's own. Every line they write is kept. With
 * `productsService` the compiled products service runs too, on its own database, and the gateway
 * and the monolith are pointed at it (products stays routed to the monolith until a test switches it).
 */
export const root = path.resolve(__dirname, '../../../..');
export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const ENTRIES = {
  gateway: 'gateway/dist/main.js',
  monolith: 'monolith/dist/main.js',
  relay: 'packages/relay/dist/main.js',
  'products-service': 'extracted/products-service/dist/main.js',
} as const;
export type ProcessName = keyof typeof ENTRIES | 'seed';

export interface RunningProcess {
  name: ProcessName;
  child: ChildProcess;
  /** stdout and stderr as written, in order. */
  output: string;
}

/** A port nobody listens on right now (the OS's choice). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The libpq variables of the machine's PostgreSQL, as the test process sees them. */
const postgresEnv = () => Object.fromEntries(['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PATH'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));

/** The products service's part of a system: its own database (as in production, database-per-service) and port. */
async function productsSide(label: string) {
  const port = await freePort();
  return { db: await createTestDatabase(`${label}_products`), port, url: `http://127.0.0.1:${port}` };
}

export async function startSystem(label: string, options: { productsService?: boolean } = {}) {
  // The children run the compiled code: `npm test` builds it first, this makes a lone run work too.
  const projects = ['packages/telemetry', 'packages/relay', 'monolith', 'gateway', ...(options.productsService ? ['extracted/products-service'] : [])];
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', ...projects], { cwd: root, stdio: 'pipe' });

  const receiver = await startOtlpReceiver();
  const smtp: SmtpCapture = await startSmtpServer();
  const databases: TestDatabase[] = [await createTestDatabase(`${label}_monolith`), await createTestDatabase(`${label}_gateway`)];
  const [monolithDb, gatewayDb] = databases;
  const namespace = testNamespace(label);
  const ports = { monolith: await freePort(), gateway: await freePort(), admin: await freePort(), relay: await freePort() };
  const products = options.productsService ? await productsSide(label) : undefined;
  if (products) databases.push(products.db);
  const secrets = {
    adminToken: `admin-token-${randomBytes(16).toString('hex')}`,
    adminPassword: `Adm1n-${randomBytes(8).toString('hex')}`,
  };
  const processes: RunningProcess[] = [];

  const base = {
    ...postgresEnv(),
    RABBITMQ_URL,
    LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_TRACES_SAMPLER: 'always_on',
    // Export every 200 ms instead of 5 s: the test waits for spans, not for batches.
    OTEL_BSP_SCHEDULE_DELAY: '200',
    BANYAN_ADMIN_TOKEN: secrets.adminToken,
  };
  const envOf: Partial<Record<ProcessName, Record<string, string>>> = {
    seed: { ...base, MONOLITH_DATABASE: monolithDb.settings.database, BANYAN_ADMIN_PASSWORD: secrets.adminPassword },
    monolith: {
      ...base,
      OTEL_SERVICE_NAME: 'banyan-monolith',
      PORT: String(ports.monolith),
      MONOLITH_DATABASE: monolithDb.settings.database,
      GATEWAY_ADMIN_URL: `http://127.0.0.1:${ports.admin}`,
      SMTP_HOST: smtp.host,
      SMTP_PORT: String(smtp.port),
      BANYAN_MQ_NAMESPACE: namespace,
      // Where the products door reserves stock once products is switched to the service (ADR 0302).
      ...(products ? { PRODUCTS_SERVICE_URL: products.url } : {}),
    },
    gateway: {
      ...base,
      OTEL_SERVICE_NAME: 'banyan-gateway',
      // As gateway/package.json's start script: the gateway traces its own hop (ADR 0208).
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http',
      GATEWAY_PORT: String(ports.gateway),
      GATEWAY_ADMIN_PORT: String(ports.admin),
      GATEWAY_DATABASE: gatewayDb.settings.database,
      MONOLITH_URL: `http://127.0.0.1:${ports.monolith}`,
      GATEWAY_OUTBOX_DATABASES: [monolithDb, ...(products ? [products.db] : [])].map((d) => d.settings.database).join(','),
      // The extracted side, and the two outboxes the switch fence reads (ADR 0303).
      ...(products ? { PRODUCTS_SERVICE_URL: products.url, MONOLITH_DATABASE: monolithDb.settings.database, PRODUCTS_DATABASE: products.db.settings.database } : {}),
    },
    relay: {
      ...base,
      OTEL_SERVICE_NAME: 'banyan-relay',
      RELAY_DATABASE: monolithDb.settings.database,
      RELAY_NAMESPACE: namespace,
      RELAY_PORT: String(ports.relay),
      RELAY_POLL_INTERVAL_MS: '200',
    },
  };
  if (products) {
    // As `npm start` runs a service (packages/cli/src/dev/processes.ts): the users domain's keys
    // through the gateway, its own database, the system's namespace; it relays its own outbox.
    envOf['products-service'] = {
      ...base,
      OTEL_SERVICE_NAME: 'banyan-products-service',
      PORT: String(products.port),
      SERVICE_DATABASE: products.db.settings.database,
      USERS_JWKS_URL: `http://127.0.0.1:${ports.gateway}/api/users/.well-known/jwks.json`,
      GATEWAY_ADMIN_URL: `http://127.0.0.1:${ports.admin}`,
      BANYAN_MQ_NAMESPACE: namespace,
    };
  }

  function start(name: ProcessName, preload = true): RunningProcess {
    const entry = name === 'seed' ? 'monolith/dist/seed-main.js' : ENTRIES[name];
    const env = envOf[name];
    // Without its own env a child would inherit the test's: refuse rather than run it half-configured.
    if (!env) throw new Error(`${name} is not part of this system (startSystem's options)`);
    const child = spawn(process.execPath, [...(preload ? ['-r', '@banyan/telemetry/register'] : []), entry], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const running: RunningProcess = { name, child, output: '' };
    child.stdout!.on('data', (c: Buffer) => (running.output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (running.output += c.toString('utf8')));
    processes.push(running);
    return running;
  }

  async function waitReady(url: string, who: RunningProcess, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (who.child.exitCode !== null) throw new Error(`${who.name} exited (${who.child.exitCode}) before it was ready:\n${who.output.slice(-2000)}`);
      const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${who.name} not ready at ${url} within ${timeoutMs} ms:\n${who.output.slice(-2000)}`);
  }

  /** The seed migrates the monolith's database and creates the admin and the demo catalog. */
  async function seed() {
    const seeding = start('seed', false);
    const code = await new Promise<number | null>((resolve) => seeding.child.on('exit', resolve));
    if (code !== 0) throw new Error(`seed failed (${code}):\n${seeding.output}`);
  }

  async function boot() {
    await seed();
    const gateway = start('gateway');
    const monolith = start('monolith');
    const relay = start('relay');
    // The service fetches the users domain's keys through the gateway when the first token arrives, not at start.
    const service = products ? start('products-service') : undefined;
    await Promise.all([
      waitReady(`http://127.0.0.1:${ports.admin}/readyz`, gateway),
      waitReady(`http://127.0.0.1:${ports.monolith}/readyz`, monolith),
      waitReady(`http://127.0.0.1:${ports.relay}/readyz`, relay),
      ...(products && service ? [waitReady(`${products.url}/readyz`, service)] : []),
    ]);
  }

  /** SIGTERM (each process flushes its spans), SIGKILL after 10 s. */
  async function stopProcesses() {
    await Promise.all(
      processes
        .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
        .map(
          (p) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
              p.child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              p.child.kill('SIGTERM');
            }),
        ),
    );
  }

  /**
   * Everything the namespace can hold: the domain exchanges, the retry and dead-letter path, and
   * each queue the monolith's and the products service's consumer groups said they consume (their
   * "consumers started" lines) with its DLQ. Quorum queues hold broker file handles: none may
   * outlive the test.
   */
  async function removeNamespace() {
    const n = names(namespace);
    const consumed = new Set<string>();
    for (const line of [...lines('monolith'), ...lines('products-service')]) {
      if (line.msg === 'consumers started' && Array.isArray(line.queues)) for (const q of line.queues as string[]) consumed.add(q);
    }
    const levels = DEFAULT_RETRY.delaysMs.map((_, i) => n.retryLevel(i));
    const queues = [...[...consumed].flatMap((q) => [q, n.deadLetterQueue(q)]), ...levels];
    const exchanges = [...DOMAINS.map((d) => n.exchange(d)), n.deadLetterExchange, n.requeueExchange, ...levels];
    const connection = await amqplib.connect(RABBITMQ_URL);
    try {
      // A failed delete closes the channel: one channel per name, so one failure spoils nothing.
      for (const [kind, list] of [['queue', queues], ['exchange', exchanges]] as const) {
        for (const name of list) {
          const channel = await connection.createChannel();
          channel.on('error', () => undefined);
          await (kind === 'queue' ? channel.deleteQueue(name) : channel.deleteExchange(name)).catch(() => undefined);
          await channel.close().catch(() => undefined);
        }
      }
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  /** The JSON lines a process wrote (anything else is ignored here, and caught by the log test). */
  function lines(name: ProcessName): Array<Record<string, unknown>> {
    return processes
      .filter((p) => p.name === name)
      .flatMap((p) => p.output.split('\n'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  async function close() {
    const errors: unknown[] = [];
    for (const step of [stopProcesses, removeNamespace, () => Promise.all(databases.map((d) => d.drop())), () => smtp.close(), () => receiver.close()]) {
      await step().catch((err: unknown) => errors.push(err));
    }
    if (errors.length) throw errors[0];
  }

  return {
    urls: { gateway: `http://127.0.0.1:${ports.gateway}`, admin: `http://127.0.0.1:${ports.admin}`, relay: `http://127.0.0.1:${ports.relay}`, monolith: `http://127.0.0.1:${ports.monolith}`, products: products?.url },
    receiver,
    smtp,
    monolithDb,
    productsDb: products?.db,
    namespace,
    secrets,
    processes,
    boot,
    stopProcesses,
    lines,
    close,
  };
}

export type System = Awaited<ReturnType<typeof startSystem>>;
