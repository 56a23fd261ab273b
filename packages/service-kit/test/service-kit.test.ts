import { Router } from 'express';
import { ConfigError } from '@banyan/config';
import { withTransaction } from '@banyan/db';
import { serve } from '@banyan/http';
import type { Consumers } from '@banyan/messaging';
import type { RouteMode, RouteState, RoutingView } from '@banyan/routing-client';
import { buildService, followRoute, loadServiceConfig, serviceEnv } from '@banyan/service-kit';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, eventually, http, type TestDatabase } from '@banyan/testing';

const logger = createLogger('service-kit-test', process.env.TEST_LOG_LEVEL ?? 'silent');

describe('serviceEnv and loadServiceConfig', () => {
  test("When the environment says nothing, then the service's own defaults apply", () => {
    const config = loadServiceConfig(serviceEnv({ port: 3199, database: 'things_service' }), {});

    expect(config).toMatchObject({ PORT: 3199, HOST: '127.0.0.1', SERVICE_DATABASE: 'things_service', SERVICE_RELAY: 'on' });
  });

  test('When variables are bad, then the start stops with a ConfigError naming each one', () => {
    const load = () => loadServiceConfig(serviceEnv({ port: 3199, database: 'x' }), { PORT: '70000', SERVICE_RELAY: 'maybe' });

    expect(load).toThrow(ConfigError);
    expect(() => load()).toThrow(/PORT: [^\n]+\n\s+SERVICE_RELAY: /);
  });
});

describe('buildService', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('service-kit');
  });
  afterAll(() => db?.drop());

  test('When a service is built and started, then outbox, inbox and its schemas are migrated, its router answers under /api/<domain> and writes its events, and the base answers the rest', async () => {
    const lifecycle: string[] = [];
    const service = buildService({ knex: db.knex, logger, name: 'things-service', verifier: { verify: async () => ({ userId: 'u', email: 'u@x', role: 'admin' }) } }, ({ knex, outbox }) => {
      const router = Router();
      router.post('/', async (_req, res) => {
        const id = '0190a8f2-7c3e-7b4a-9c1d-2e3f4a5b6c7d';
        await withTransaction(knex, async (trx) => {
          await trx('things.things').insert({ id });
          // Event types name the shop's domains (@banyan/events): a product event stands in.
          await outbox.add(trx, { type: 'product.created', subject: id, data: { id } });
        });
        res.status(201).json({ id });
      });
      return {
        name: 'things-service',
        domain: 'things',
        schemas: [{ schema: 'things', migrations: [{ name: '001_things', up: (k) => k.raw('CREATE TABLE things.things (id uuid PRIMARY KEY)') }] }],
        router,
        start: async () => void lifecycle.push('started'),
        stop: async () => void lifecycle.push('stopped'),
      };
    });

    await service.start();
    const served = await serve(service.app);
    const api = http(served.url);
    try {
      const rows: Array<{ table_schema: string; table_name: string }> = await db.knex('information_schema.tables').whereIn('table_schema', ['outbox', 'inbox', 'things']).select('table_schema', 'table_name');
      const tables = rows.map((t) => `${t.table_schema}.${t.table_name}`);
      expect(tables).toEqual(expect.arrayContaining(['outbox.events', 'inbox.processed', 'things.things']));
      expect(lifecycle).toEqual(['started']);

      expect((await api.post('/api/things', {})).status).toBe(201);
      expect(await db.knex('outbox.events').select('type', 'origin', 'source')).toEqual([{ type: 'product.created', origin: 'things-service', source: '/banyan/things-service' }]);

      expect(await api.get('/readyz')).toMatchObject({ status: 200, body: { checks: { database: true } } });
      expect((await api.get('/metrics')).text).toContain('http_server_request_duration_seconds');
      expect(await api.get('/api/others')).toMatchObject({ status: 404, body: { code: 'HTTP.NOT_FOUND' } });
    } finally {
      await served.close(1_000);
    }

    await service.stop();
    expect(lifecycle).toEqual(['started', 'stopped']);
  });
});

/** A routing view the test switches by hand: what the gateway's admin API would report. */
function routingView(): RoutingView & { route(mode: RouteMode): void } {
  const listeners = new Set<(next: RouteState, previous: RouteState) => void>();
  let state: RouteState = { domain: 'things', mode: 'monolith', percent: 0, version: 0, fenced: false };
  return {
    get: () => state,
    isExtracted: () => state.mode === 'extracted',
    beginWrite: async () => ({ side: state.mode === 'extracted' ? 'extracted' : 'monolith', done: () => undefined }),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh: async () => undefined,
    stop: () => undefined,
    route(mode) {
      const previous = state;
      state = { ...state, mode, version: state.version + 1 };
      for (const listener of listeners) listener(state, previous);
    },
  };
}

/** Consumers that take a while to start and to close, counting how many run at once. */
function slowConsumers() {
  const counts = { started: 0, closed: 0, running: 0, most: 0 };
  const start = async (): Promise<Consumers> => {
    await new Promise((r) => setTimeout(r, 20));
    counts.started++;
    counts.running++;
    counts.most = Math.max(counts.most, counts.running);
    return {
      topology: { exchanges: [], queues: [] } as unknown as Consumers['topology'],
      close: async () => {
        await new Promise((r) => setTimeout(r, 20));
        counts.closed++;
        counts.running--;
      },
    };
  };
  return { counts, start };
}

describe('followRoute', () => {
  test("When the domain is routed to the service and back, then its consumers start and stop with it, and not for another domain's change", async () => {
    const routing = routingView();
    const { counts, start } = slowConsumers();
    const follower = followRoute({ routing, domain: 'things', start, logger });
    await follower.settled();
    expect(follower.active).toBe(false);

    routing.route('extracted');
    await follower.settled();
    expect([follower.active, counts.started]).toEqual([true, 1]);

    routing.route('monolith');
    await follower.settled();
    expect([follower.active, counts.closed]).toEqual([false, 1]);
    await follower.close();
  });

  test('When the route flips back and forth quickly, then never two sets of consumers run, and the last route wins', async () => {
    const routing = routingView();
    const { counts, start } = slowConsumers();
    const follower = followRoute({ routing, domain: 'things', start, logger });

    for (let i = 0; i < 5; i++) {
      routing.route('extracted');
      routing.route('monolith');
    }
    routing.route('extracted');
    await follower.settled();

    expect(counts.most).toBe(1);
    expect([follower.active, counts.running]).toEqual([true, 1]);
    await follower.close();
    expect(counts.running).toBe(0);
  });

  test('When starting the consumers fails, then the follower stays inactive and the next route change tries again', async () => {
    const routing = routingView();
    let attempts = 0;
    const { counts, start } = slowConsumers();
    const follower = followRoute({
      routing,
      domain: 'things',
      start: async () => {
        if (++attempts === 1) throw new Error('broker unreachable');
        return start();
      },
      logger,
    });
    await follower.settled();

    routing.route('extracted');
    await follower.settled();
    expect([follower.active, attempts]).toEqual([false, 1]);

    routing.route('extracted');
    await eventually(() => follower.active, { until: (active) => active, timeoutMs: 2_000, what: 'the retried start' });
    expect([attempts, counts.running]).toEqual([2, 1]);
    await follower.close();
  });

  test('When the follower is closed, then running consumers are closed and later route changes start nothing', async () => {
    const routing = routingView();
    const { counts, start } = slowConsumers();
    const follower = followRoute({ routing, domain: 'things', start, logger });
    routing.route('extracted');
    await follower.settled();

    await follower.close();
    routing.route('monolith');
    routing.route('extracted');
    await follower.settled();

    expect([follower.active, counts.started, counts.closed]).toEqual([false, 1, 1]);
  });
});
