import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { REPO } from './support/declaration';
import { ADMIN_TOKEN, adminClient, sleep } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/**
 * A ramp outlives the process driving it: the compiled gateway (as `npm start` runs it) is killed
 * with SIGKILL mid-ramp, so it gives nothing up; a second process on the same database takes the
 * ramp over once the dead one's lease has run out, and finishes it from the recorded step.
 */
const MAIN = path.join(REPO, 'gateway', 'dist', 'main.js');
const LEASE_MS = 1_500;

interface Running {
  child: ChildProcess;
  url: string;
  admin: ReturnType<typeof adminClient>;
}

describe('A ramp whose gateway process is killed', () => {
  let monolith: Stub;
  let service: Stub;
  let db: TestDatabase;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('books-service');
    db = await createTestDatabase('gw_ramp_crash');
    dir = mkdtempSync(path.join(tmpdir(), 'banyan-ramp-crash-'));
    writeFileSync(
      path.join(dir, 'library.migration.json'),
      JSON.stringify({ name: 'Library', monolith: { url: monolith.url }, domains: { books: { prefixes: ['/api/books'], service: { url: service.url }, stickyKey: { header: 'X-Client' } } } }),
    );
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await db?.drop();
    await Promise.all([monolith, service].map((s) => s?.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The compiled gateway on free ports, resolved once it logs where it listens. */
  const start = () =>
    new Promise<Running>((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          BANYAN_ADMIN_TOKEN: ADMIN_TOKEN,
          BANYAN_MIGRATION: 'library.migration.json',
          GATEWAY_DATABASE: db.settings.database,
          GATEWAY_PORT: '0',
          GATEWAY_ADMIN_PORT: '0',
          GATEWAY_RAMP_TICK_MS: '100',
          GATEWAY_RAMP_LEASE_MS: String(LEASE_MS),
          PGHOST: db.settings.host,
          PGPORT: String(db.settings.port),
          PGUSER: db.settings.user,
          ...(db.settings.password ? { PGPASSWORD: db.settings.password } : {}),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.includes('"gateway listening"'));
        if (line) {
          const { url, admin } = JSON.parse(line) as { url: string; admin: string };
          resolve({ child, url, admin: adminClient(admin) });
        }
      });
      child.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${err}`)));
    });

  test('When the driving process dies mid-ramp, then another takes over after the lease and completes it from the recorded step', async () => {
    let current = await start();
    let reading = true;
    let n = 0;
    const statuses: number[] = [];
    const reader = (async () => {
      while (reading) {
        try {
          const res = await fetch(`${current.url}/api/books/1`, { headers: { 'x-client': `c${n++}` } });
          await res.text();
          statuses.push(res.status);
        } catch {
          await sleep(20); // the killed process's port, until the next one is up
        }
      }
    })();

    const started = (await current.admin.post('/ramps', { domain: 'books', steps: [10, 40, 70, 100], holdMs: 700, thresholds: { minRequests: 5, p99FloorMs: 600 } })).body;
    const ramp = async () => (await current.admin.get(`/ramps/${started.id}`)).body;
    for (let i = 0; i < 300 && !((await ramp()).stepIndex >= 1 && (await ramp()).stepStartedAt); i++) await sleep(25);
    current.child.kill('SIGKILL');
    const killedAt = Date.now();
    const atCrash: { step_index: number; status: string; lease_owner: string } = await db.knex('gateway.ramps').where({ id: started.id }).first();
    expect(atCrash).toMatchObject({ status: 'running', lease_owner: expect.any(String) });

    current = await start();
    let done = await ramp();
    for (let i = 0; i < 600 && done.status === 'running'; i++) {
      await sleep(25);
      done = await ramp();
    }
    reading = false;
    await reader;

    expect([done.status, done.reason]).toEqual(['completed', null]);
    expect(done.verdicts.map((v: { step: number }) => v.step)).toEqual([10, 40, 70, 100]);
    const drivers = done.verdicts.map((v: { driver: string }) => v.driver);
    const at = atCrash.step_index;
    // The dead process's steps are its own; from the step it was on, the new process's, after its lease ran out.
    expect(drivers.slice(0, at)).toEqual(Array(at).fill(atCrash.lease_owner));
    expect(new Set(drivers.slice(at)).size).toBe(1);
    expect(drivers[at]).not.toBe(atCrash.lease_owner);
    expect(Date.parse(done.verdicts[at].at) - killedAt).toBeGreaterThanOrEqual(LEASE_MS - 500);
    const changes = await db.knex('gateway.route_audit').where({ domain: 'books' }).orderBy('id');
    expect(changes.map((c: { to_mode: string; to_percent: number }) => (c.to_mode === 'extracted' ? 100 : c.to_percent))).toEqual([10, 40, 70, 100]);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
