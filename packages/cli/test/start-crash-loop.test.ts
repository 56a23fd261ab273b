import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { testNamespace, processAlive, freePort, dropDatabasesWithPrefix, deleteNamespaceTopology } from '@banyan/testing';

/**
 * `npm start` (the compiled CLI; `npm run build` first) with one process that cannot start: the
 * relay, given a RELAY_PORT that is not a port, exits at once every time. Everything else runs
 * on ports, databases and a RabbitMQ namespace of this test's own, removed at the end.
 */
const bin = path.resolve(__dirname, '../dist/bin.js');
const PORT_VARIABLES = ['PORT', 'GATEWAY_PORT', 'GATEWAY_ADMIN_PORT', 'USERS_SERVICE_PORT', 'PRODUCTS_SERVICE_PORT', 'ORDERS_SERVICE_PORT', 'PAYMENTS_SERVICE_PORT', 'NOTIFICATIONS_SERVICE_PORT', 'ANALYTICS_SERVICE_PORT', 'SMTP_PORT', 'BANYAN_MAIL_WEB_PORT', 'BANYAN_TRACES_PORT'];


/** Processes whose environment carries the mark: whatever this test's supervisor started. */
const pidsMarkedWith = (mark: string) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`CRASH_LOOP_TEST_MARK=${mark}`);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    });



describe('npm start gives up on a crash loop', () => {
  test('When a process crash-loops, then npm start stops every process and exits non-zero naming it, leaving no process behind', async () => {
    // Arrange: an isolated system whose processes all carry a mark, so any left behind is found.
    const id = randomBytes(4).toString('hex');
    const mark = `crash-loop-${id}`;
    const prefix = `test_crash_loop_${id}_`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BANYAN_DATABASE_PREFIX: prefix,
      BANYAN_MQ_NAMESPACE: testNamespace('crash-loop'),
      BANYAN_ADMIN_TOKEN: `crash-loop-${randomBytes(12).toString('hex')}`,
      BANYAN_ADMIN_PASSWORD: `crash-loop-${randomBytes(6).toString('hex')}`,
      RELAY_PORT: 'not-a-port',
      CRASH_LOOP_TEST_MARK: mark,
    };
    for (const name of PORT_VARIABLES) env[name] = String(await freePort());
    for (const k of ['NODE_OPTIONS', 'JEST_WORKER_ID', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'DATABASE_URL']) delete env[k];

    try {
      // Act
      const supervisor = spawn(process.execPath, [bin, 'start', '--no-seed'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      supervisor.stdout.on('data', (c: Buffer) => (output += c.toString()));
      supervisor.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => supervisor.kill('SIGKILL'), 150_000);
        supervisor.on('close', (status) => {
          clearTimeout(timer);
          resolve(status);
        });
      });

      // Assert: it said who and why, with each restart's backoff, and ended non-zero...
      expect(code).toBe(1);
      const relayRestarts = [...output.matchAll(/^\[banyan\] relay \(pid \d+\) exited with code 1; restarting it in ([\d.]+ s) \(restart (\d) of 5 allowed within 60 s\)$/gm)].map((m) => `${m[2]}: ${m[1]}`);
      expect(relayRestarts).toEqual(['1: 0.25 s', '2: 0.5 s', '3: 1 s', '4: 2 s', '5: 4 s']);
      expect(output).toMatch(/^banyan start: relay is crash-looping: it ended 6 times within 60 s \(the last time it exited with code 1\); every process was stopped$/m);
      // ...and every process it ever started is gone, the ones that were healthy included.
      const started = [...output.matchAll(/^\[banyan\] (\S+) started \(pid (\d+)\)$/gm)].map((m) => ({ name: m[1], pid: Number(m[2]) }));
      expect(started.map((s) => s.name)).toEqual(expect.arrayContaining(['monolith', 'gateway', 'products-svc']));
      expect(started.filter((s) => s.name === 'relay')).toHaveLength(6);
      expect(started.filter((s) => processAlive(s.pid))).toEqual([]);
      expect(pidsMarkedWith(mark)).toEqual([]);
    } finally {
      for (const pid of pidsMarkedWith(mark)) process.kill(pid, 'SIGKILL');
      await dropDatabasesWithPrefix(prefix);
      await deleteNamespaceTopology(env.BANYAN_MQ_NAMESPACE!);
    }
  }, 180_000);
});
