import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { removeTopology, startConsumers, type Consumers } from '@banyan/messaging';
import { createRelay, type Relay } from '@banyan/relay';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, deleteNamespaceTopology, eventually, freePort, http, testNamespace, type TestDatabase } from '@banyan/testing';
import { startMonolith, type MonolithHarness } from '../../../monolith/test/support/harness';

// The service as `npm start` and compose run it: its built main.js in a process of its own, with
// its relay and consumers inside, beside a monolith with its relay and sync consumer.
const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MAIN = path.resolve(__dirname, '../dist/main.js');
const namespace = testNamespace('uproc');
const logger = createLogger('users-process', 'silent');

let mono: MonolithHarness;
let db: TestDatabase;
let child: ChildProcess;
let output = '';
let api: ReturnType<typeof http>;
let consumers: Consumers;
let relay: Relay;
beforeAll(async () => {
  mono = await startMonolith('uproc_mono');
  db = await createTestDatabase('uproc_svc');
  const subscriptions = [...(mono.monolith.modules.users.syncSubscriptions ?? []), ...mono.monolith.modules.analytics.subscriptions.filter((s) => s.eventType === 'user.registered')];
  consumers = await startConsumers({ url: RABBITMQ_URL, knex: mono.db.knex, subscriptions, logger, namespace });
  relay = createRelay({ database: mono.db.settings, url: RABBITMQ_URL, logger, namespace, pollIntervalMs: 100 });
  await relay.start();

  const port = await freePort();
  child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      SERVICE_DATABASE: db.settings.database,
      // The key store follows the monolith's database variable when USERS_KEY_STORE_DATABASE is unset.
      MONOLITH_DATABASE: mono.db.settings.database,
      BANYAN_MQ_NAMESPACE: namespace,
      RABBITMQ_URL,
      LOG_LEVEL: 'info',
      OTEL_SDK_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  api = http(`http://127.0.0.1:${port}`);
  await eventually(() => api.get('/readyz'), { timeoutMs: 20_000, until: (r) => r.status === 200, what: 'the users service process ready', intervalMs: 200 });
}, 40_000);
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await relay?.stop();
  await consumers?.close();
  if (consumers) await removeTopology(RABBITMQ_URL, [consumers.topology]);
  // The process declared its own queues under the namespace; they are not in `consumers.topology`.
  await deleteNamespaceTopology(namespace).catch(() => undefined);
  await db?.drop();
  await mono?.close();
});

const PASSWORD = 'correct horse battery staple';

describe('The users service as a process (dist/main.js)', () => {
  test('When it runs beside the monolith, then it publishes the same JWKS, and accounts registered on either side log in on the other', async () => {
    const [own, monos] = await Promise.all([api.get('/api/users/.well-known/jwks.json'), mono.api.get('/api/users/.well-known/jwks.json')]);
    expect(own.body).toEqual(monos.body);

    const atService = `proc-${randomUUID()}@example.com`;
    expect((await api.post('/api/users', { email: atService, password: PASSWORD, name: 'At the service' })).status).toBe(201);
    await eventually(() => mono.api.post('/api/users/login', { email: atService, password: PASSWORD }), { timeoutMs: 10_000, until: (r) => r.status === 200, what: 'login at the monolith' });

    const atMonolith = `proc-${randomUUID()}@example.com`;
    expect((await mono.api.post('/api/users', { email: atMonolith, password: PASSWORD, name: 'At the monolith' })).status).toBe(201);
    const login = await eventually(() => api.post('/api/users/login', { email: atMonolith, password: PASSWORD }), { timeoutMs: 10_000, until: (r) => r.status === 200, what: 'login at the service' });
    expect((await mono.api.get('/api/users/me', login.body.token)).body.email).toBe(atMonolith);
  }, 30_000);

  test('When its log is read, then no password hash and no private key is in it', () => {
    expect(output).not.toMatch(/scrypt\$/);
    expect(output).not.toMatch(/"d":"/);
    expect(output).toContain('users-service listening');
  });

  test('When it gets SIGTERM, then it exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 15_000);

  test('When the announcement is not shorter than the rotation period, then it refuses to start, naming the variable', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: { ...process.env, USERS_KEY_ANNOUNCE_MS: '1000', USERS_KEY_ROTATE_AFTER_MS: '1000', OTEL_SDK_DISABLED: 'true' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('USERS_KEY_ANNOUNCE_MS: must be shorter than USERS_KEY_ROTATE_AFTER_MS');
  });

  test('When the announcement is shorter than the 30 s a process keeps its signing key, then it refuses to start, naming the variable', () => {
    const run = spawnSync(process.execPath, [MAIN], { env: { ...process.env, USERS_KEY_ANNOUNCE_MS: '1500', OTEL_SDK_DISABLED: 'true' }, encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('USERS_KEY_ANNOUNCE_MS: must be at least 30000');
  });
});
