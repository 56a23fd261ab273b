import { defineMigration } from '@banyan/migration';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { startGateway, sleep, type GatewayHarness } from './support/gateway';
import { echo, startStub, type Stub } from './support/stub';

/**
 * Ramps (docs/gateway.md#ramp) through real gateways in front of stub services that misbehave on
 * cue over real HTTP: each test ramps its own domain, with holds of a few hundred ms and gates
 * evaluated every TICK_MS, while clients with many sticky keys keep reading through the gateway.
 */
const TICK_MS = 100;
const DOMAINS = ['fails', 'slow', 'differs', 'passes', 'restarts', 'shared', 'ruled', 'fleet'] as const;
type Name = (typeof DOMAINS)[number];
const ENV = { GATEWAY_RAMP_TICK_MS: String(TICK_MS), GATEWAY_RAMP_LEASE_MS: '1500' };
/**
 * Few requests per step, and a p99 floor well above what one loaded test process adds to a stub's
 * answer (clients, gateway and stubs share its event loop), so only a service made slow on cue
 * fails the latency gate.
 */
const FAST = { minRequests: 5, p99FloorMs: 600 };

const declaration = (monolith: string, services: Record<Name, Stub>) =>
  defineMigration({
    name: 'Ramps',
    monolith: { url: monolith },
    domains: Object.fromEntries(
      DOMAINS.map((d) => [
        d,
        { prefixes: [`/api/${d}`], service: { url: services[d].url }, stickyKey: { header: 'X-Client' }, ...(d === 'ruled' ? { routes: [{ name: 'search', method: 'GET', path: '/api/ruled/search' }] } : {}) },
      ]),
    ),
  });

interface Ramp {
  id: number;
  status: string;
  stepIndex: number;
  stepStartedAt: string | null;
  reason: string | null;
  lastGood: { mode: string; percent: number } | null;
  leaseOwner: string | null;
  verdicts: Array<{ step: number | 'shadow'; outcome: string; reasons?: string[]; driver: string; at: string; figures?: any }>;
}

/** Clients reading `domain` through whichever gateway `target()` names, each with its own sticky key, until stopped; every answer's status kept. */
function clients(target: () => GatewayHarness, domain: Name, concurrency = 4, path = 'items') {
  const statuses: number[] = [];
  let running = true;
  let n = 0;
  const one = async () => {
    while (running) {
      try {
        const res = await fetch(`${target().url}/api/${domain}/${path}`, { headers: { 'x-client': `client-${n++}` } });
        await res.text();
        statuses.push(res.status);
      } catch {
        statuses.push(0);
      }
    }
  };
  const loops = Array.from({ length: concurrency }, one);
  return {
    statuses,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; last ${JSON.stringify(v)}`);
    await sleep(25);
  }
}

describe('banyan ramp: steps, gates and automatic rollback', () => {
  let monolith: Stub;
  const services = {} as Record<Name, Stub>;
  let db: TestDatabase;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    for (const d of DOMAINS) services[d] = await startStub(`${d}-service`);
    db = await createTestDatabase('gw_ramp');
    gw = await startGateway({ label: 'gw_ramp', db, declaration: declaration(monolith.url, services), env: ENV });
  });
  afterAll(async () => {
    await gw?.close();
    await db?.drop();
    await Promise.all([monolith, ...Object.values(services)].map((s) => s?.close()));
  });

  const ramp = (id: number, on: GatewayHarness = gw) => on.adminApi.get(`/ramps/${id}`).then((r) => r.body as Ramp);
  const start = async (domain: Name, steps: Array<number | 'shadow'>, holdMs: number, thresholds: object = FAST) => {
    const res = await gw.adminApi.post('/ramps', { domain, steps, holdMs, thresholds });
    expect(res.status).toBe(201);
    return res.body as Ramp;
  };
  /** The rollback is recorded, then the driving instance re-reads the table: wait for what it routes by. */
  const routedAs = (domain: Name, mode: string, percent = 0) =>
    until(`${domain} routed ${mode} ${percent}`, async () => gw.gateway.table().rows.get(domain)!, (row) => row.mode === mode && row.percent === percent, 2_000);
  const finished = (id: number, on?: GatewayHarness) => until(`ramp ${id} ends`, () => ramp(id, on), (r) => r.status !== 'running');

  test('When every gate passes, then the ramp moves step by step to the service and completes, each step audited', async () => {
    const traffic = clients(() => gw, 'passes');
    const started = await start('passes', [10, 50, 100], 300);
    const done = await finished(started.id);
    await traffic.stop();

    expect([done.status, done.reason]).toEqual(['completed', null]);
    expect(done.verdicts.map((v) => [v.step, v.outcome])).toEqual([
      [10, 'passed'],
      [50, 'passed'],
      [100, 'passed'],
    ]);
    expect(done.verdicts[1].figures.new.requests).toBeGreaterThanOrEqual(5);
    expect(gw.gateway.table().rows.get('passes')).toMatchObject({ mode: 'extracted' });
    const audit = (await gw.adminApi.get('/audit?domain=passes')).body.items;
    expect(audit.slice(0, 3).map((a: { to: unknown; actor: string }) => [a.to, a.actor])).toEqual([
      [{ mode: 'extracted', percent: 0 }, `ramp-${started.id}`],
      [{ mode: 'canary', percent: 50 }, `ramp-${started.id}`],
      [{ mode: 'canary', percent: 10 }, `ramp-${started.id}`],
    ]);
    expect(traffic.statuses.every((s) => s === 200)).toBe(true);
  });

  test('When the service starts failing at the third step, then the ramp rolls back to the second within one gate interval and no client read fails', async () => {
    // On cue: the service fails every request once the gateway routes half of the reads to it.
    const failures: number[] = [];
    services.fails.behave((req, res, body) => {
      if (gw.gateway.table().rows.get('fails')!.percent < 50) return echo('fails-service')(req, res, body);
      failures.push(Date.now());
      res.statusCode = 500;
      res.end('{"error":"boom"}');
    });
    const traffic = clients(() => gw, 'fails', 6);
    const started = await start('fails', [10, 25, 50, 100], 400);
    const done = await finished(started.id);
    await traffic.stop();

    expect(done.status).toBe('rolled-back');
    expect(done.verdicts.map((v) => [v.step, v.outcome])).toEqual([
      [10, 'passed'],
      [25, 'passed'],
      [50, 'failed'],
    ]);
    const failed = done.verdicts[2];
    // (A read answered across the step's change may count in its window as a success: not always 100%.)
    expect(failed.reasons!.join()).toMatch(/^error rate: the new side failed \d+ of \d+ \(\d+\.\d%\), over the old side's 0\.0% \+ 1\.0%$/);
    expect(failed.figures.new.errorRate).toBeGreaterThan(0.5);
    expect(failed.figures.new.failures).toBeGreaterThanOrEqual(5);
    await routedAs('fails', 'canary', 25);
    const audit = (await gw.adminApi.get('/audit?domain=fails')).body.items[0];
    expect(audit).toMatchObject({ to: { mode: 'canary', percent: 25 }, actor: `ramp-${started.id}` });
    expect(audit.note).toMatch(/rolled back at canary 50%: error rate/);
    // Judged from the 5th failure (minRequests) on: the next tick rolls back. The slack is the
    // tick's own reads and the route change, in a process shared with the clients and the stubs.
    const judgeable = failures[FAST.minRequests - 1];
    expect(Date.parse(failed.at) - judgeable).toBeLessThan(TICK_MS + 400);
    // …and the routing table changed with it (the audit's time is the database's, at the change).
    expect(Date.parse(audit.at) - judgeable).toBeLessThan(TICK_MS + 400);
    // Reads the service failed were answered by the monolith: clients saw none of it.
    expect(traffic.statuses.length).toBeGreaterThan(20);
    expect(traffic.statuses.filter((s) => s !== 200)).toEqual([]);
  });

  test('When the service answers slowly, then the latency gate rolls the ramp back to where it started, naming the p99s', async () => {
    services.slow.behave((req, res, body) => void setTimeout(() => echo('slow-service')(req, res, body), 1_200));
    const traffic = clients(() => gw, 'slow', 8);
    const started = await start('slow', [50, 100], 5_000);
    const done = await finished(started.id);
    await traffic.stop();

    expect(done.status).toBe('rolled-back');
    expect(done.verdicts.map((v) => [v.step, v.outcome])).toEqual([[50, 'failed']]);
    expect(done.reason).toMatch(/^p99 latency: the new side's \d+ ms is over \d+ ms \(old side \d+ ms × 2, at least 600 ms\)$/);
    expect(done.verdicts[0].figures.new.p99Ms).toBeGreaterThan(1_000);
    expect(done.verdicts[0].figures.old.p99Ms).toBeLessThan(600);
    await routedAs('slow', 'monolith');
    expect(traffic.statuses.filter((s) => s !== 200)).toEqual([]);
  });

  test('When shadowing shows the service answering differently, then the mismatch gate stops the ramp before any client is moved', async () => {
    // The stubs name themselves in every answer: the service's answers never match the monolith's.
    const traffic = clients(() => gw, 'differs');
    const started = await start('differs', ['shadow', 50, 100], 5_000);
    const done = await finished(started.id);
    await traffic.stop();

    expect(done.status).toBe('rolled-back');
    expect(done.verdicts.map((v) => [v.step, v.outcome])).toEqual([['shadow', 'failed']]);
    expect(done.reason).toMatch(/^shadow mismatch rate: \d+ of \d+ compared answers differ \(100\.0%\), over 1\.0%/);
    await routedAs('differs', 'monolith');
  });

  test("When a route rule is ramped, then only its endpoint moves and its own answers are gated; the rest of the domain stays", async () => {
    const traffic = clients(() => gw, 'ruled', 4, 'search');
    const res = await gw.adminApi.post('/ramps', { domain: 'ruled', rule: 'search', steps: [50, 100], holdMs: 300, thresholds: FAST });
    expect([res.status, res.body.key]).toEqual([201, 'ruled#search']);
    const done = await finished(res.body.id);
    await traffic.stop();

    expect([done.status, done.reason]).toEqual(['completed', null]);
    expect(done.verdicts[0].figures.new.requests).toBeGreaterThanOrEqual(5);
    expect(gw.gateway.table().rules.get('ruled#search')).toMatchObject({ mode: 'extracted', inherit: false });
    expect(gw.gateway.table().rows.get('ruled')).toMatchObject({ mode: 'monolith' });
    expect((await gw.api.get('/api/ruled/other')).headers.get('x-banyan-route')).toBe('monolith; mode=monolith');
  });

  test('A ramp refuses bad steps and a second ramp of the same domain, and an abort routes back to where it started', async () => {
    const bad = await gw.adminApi.post('/ramps', { domain: 'shared', steps: [50, 10], holdMs: 1_000 });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION.FAILED']);
    const unknown = await gw.adminApi.post('/ramps', { domain: 'banana', steps: [10], holdMs: 1_000 });
    expect([unknown.status, unknown.body.code]).toEqual([400, 'GATEWAY.UNKNOWN_DOMAIN']);

    const first = await start('shared', [10, 100], 60_000);
    const second = await gw.adminApi.post('/ramps', { domain: 'shared', steps: [10], holdMs: 1_000 });
    expect([second.status, second.body.code]).toEqual([409, 'GATEWAY.RAMP_RUNNING']);
    // The step is recorded, then this instance re-reads the table: wait for what it routes by.
    await until('first step made', () => ramp(first.id), (r) => r.stepStartedAt !== null);
    await until('first step routed', async () => gw.gateway.table().rows.get('shared')!, (row) => row.mode === 'canary' && row.percent === 10);

    const aborted = await gw.adminApi.post(`/ramps/${first.id}/abort`, {});
    expect(aborted.body).toMatchObject({ status: 'aborted', reason: 'aborted by admin-token' });
    expect(gw.gateway.table().rows.get('shared')).toMatchObject({ mode: 'monolith' });
    const again = await gw.adminApi.post(`/ramps/${first.id}/abort`, {});
    expect([again.status, again.body.code]).toEqual([409, 'GATEWAY.RAMP_NOT_RUNNING']);
  });

  test('When the gateway driving a ramp restarts mid-ramp, then the ramp resumes from its recorded step and no step runs twice', async () => {
    let current = gw;
    const traffic = clients(() => current, 'restarts');
    const started = await start('restarts', [10, 30, 60, 100], 800);
    await until('second step made', () => ramp(started.id), (r) => r.stepIndex === 1 && r.stepStartedAt !== null);
    await gw.close();
    // What the stopped instance left in the database: the step the next driver must resume from.
    const recorded: { status: string; step_index: number } = await db.knex('gateway.ramps').where({ id: started.id }).first();
    expect(recorded.status).toBe('running');
    gw = current = await startGateway({ label: 'gw_ramp', db, declaration: declaration(monolith.url, services), env: ENV });
    const done = await finished(started.id);
    await traffic.stop();

    expect([done.status, done.reason]).toEqual(['completed', null]);
    expect(done.verdicts.map((v) => v.step)).toEqual([10, 30, 60, 100]);
    // Every step before the recorded one was the old instance's; the recorded one and the rest, the new one's.
    const at = recorded.step_index;
    expect(at).toBeGreaterThanOrEqual(1);
    const drivers = done.verdicts.map((v) => v.driver);
    expect(drivers.slice(0, at)).toEqual(Array(at).fill(drivers[0]));
    expect(new Set(drivers.slice(at)).size).toBe(1);
    expect(drivers[at]).not.toBe(drivers[0]);
    const steps = await db.knex('gateway.route_audit').where({ domain: 'restarts' }).orderBy('id');
    expect(steps.map((a: { to_percent: number; to_mode: string }) => (a.to_mode === 'extracted' ? 100 : a.to_percent))).toEqual([10, 30, 60, 100]);
  });

  test("When every client reads through an instance that does not drive the ramp, then the driver judges the fleet's traffic: a step passes, and the service failing rolls it back", async () => {
    const other = await startGateway({ label: 'gw_ramp', db, declaration: declaration(monolith.url, services), env: ENV });
    try {
      const started = await start('fleet', [10, 50, 100], 400);
      const { leaseOwner: driver } = await until('a driver', () => ramp(started.id), (r) => r.leaseOwner !== null);
      const [bystander, driving] = driver === gw.gateway.instanceId ? [other, gw] : [gw, other];
      // On cue: the service fails once half of the reads go to it.
      services.fleet.behave((req, res, body) => {
        if (bystander.gateway.table().rows.get('fleet')!.percent < 50) return echo('fleet-service')(req, res, body);
        res.statusCode = 500;
        res.end('{"error":"boom"}');
      });
      const traffic = clients(() => bystander, 'fleet');
      const done = await finished(started.id);
      await traffic.stop();

      expect(done.verdicts.map((v) => [v.step, v.outcome, v.driver])).toEqual([
        [10, 'passed', driver],
        [50, 'failed', driver],
      ]);
      // Every one of these requests went through the other instance: the driver routed none of them.
      expect(done.verdicts[0].figures.new.requests).toBeGreaterThanOrEqual(FAST.minRequests);
      expect((await driving.adminApi.get('/metrics')).text).not.toMatch(/banyan_gateway_requests_total\{[^}]*domain="fleet"/);
      expect(done.verdicts[1].reasons!.join()).toMatch(/^error rate: the new side failed \d+ of \d+/);
      expect(traffic.statuses.filter((s) => s !== 200)).toEqual([]);
      // An ended ramp's reports are gone; its verdicts keep the figures.
      expect(await db.knex('gateway.ramp_counters').where({ ramp_id: started.id })).toEqual([]);
    } finally {
      await other.close();
    }
  });

  test('When two gateway instances share the routing table, then one of them drives the ramp', async () => {
    const other = await startGateway({ label: 'gw_ramp', db, declaration: declaration(monolith.url, services), env: ENV });
    try {
      const toA = clients(() => gw, 'shared', 2);
      const toB = clients(() => other, 'shared', 2);
      const started = await start('shared', [10, 40, 100], 300);
      const owners = new Set<string>();
      const done = await until(
        'ramp ends',
        async () => {
          const r = await ramp(started.id);
          if (r.leaseOwner) owners.add(r.leaseOwner);
          return r;
        },
        (r) => r.status !== 'running',
      );
      await Promise.all([toA.stop(), toB.stop()]);

      expect([done.status, done.reason]).toEqual(['completed', null]);
      expect(owners.size).toBe(1);
      expect(new Set(done.verdicts.map((v) => v.driver))).toEqual(owners);
      const changes = await db.knex('gateway.route_audit').where({ domain: 'shared', actor: `ramp-${started.id}` });
      expect(changes).toHaveLength(3);
      expect(other.gateway.table().rows.get('shared')).toMatchObject({ mode: 'extracted' });
    } finally {
      await other.close();
    }
  });
});
