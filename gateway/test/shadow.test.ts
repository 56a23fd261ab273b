import { startGateway, sleep, type GatewayHarness } from './support/gateway';
import { eventually } from '@banyan/testing';
import { startStub, type Behaviour, type Stub } from './support/stub';

const json =
  (body: unknown, status = 200): Behaviour =>
  (req, res) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    if (req.headers['x-request-id']) res.setHeader('x-request-id', String(req.headers['x-request-id']));
    res.end(JSON.stringify(typeof body === 'function' ? body() : body));
  };

describe('Shadow mode', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;

  const report = async () => (await gw.adminApi.get('/shadow/products')).body;
  /** Comparisons finish after the client's answer: wait (bounded) until `count` are recorded. */
  const comparedAtLeast = async (count: number) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const r = await report();
      if (r.compared + r.errors >= count) return r;
      if (Date.now() > deadline) throw new Error(`only ${r.compared} comparisons after 5 s, expected ${count}`);
      await sleep(20);
    }
  };

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('products-service');
    gw = await startGateway({
      label: 'gw_shadow',
      monolith: monolith.url,
      services: { products: service.url },
      env: { GATEWAY_SHADOW_MAX_MISMATCHES: '3' },
      compareRules: { products: { ignore: ['/nextCursor', '/items/*/updatedAt'], unordered: ['/items/*/tags'] } },
    });
    await gw.route('products', 'shadow');
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await service.close();
  });

  test('When both sides agree, the client gets the monolith answer and the comparison is a match', async () => {
    monolith.behave(json({ id: 'p1', name: 'Lamp', priceCents: 1200 }));
    service.behave(json({ priceCents: 1200, name: 'Lamp', id: 'p1' }));
    const before = service.seen.length;
    const res = await gw.api.get('/api/products/p1', undefined, { 'x-request-id': 'req-shadow-1' });
    expect(res.body).toEqual({ id: 'p1', name: 'Lamp', priceCents: 1200 });
    expect(res.headers.get('x-banyan-route')).toBe('monolith; mode=shadow');
    const r = await comparedAtLeast(1);
    expect(r).toMatchObject({ compared: 1, matched: 1, mismatched: 0, matchRate: 1 });
    // The candidate got a copy, marked as such and with its own request id.
    const copy = service.seen[before];
    expect(copy).toMatchObject({ method: 'GET', url: '/api/products/p1' });
    expect(copy.headers['x-banyan-shadow']).toBe('1');
    expect(copy.headers['x-request-id']).toBe('req-shadow-1-shadow');
  });

  test('Ignored fields and order-insensitive arrays do not count as differences', async () => {
    monolith.behave(json({ items: [{ id: 'a', tags: ['x', 'y'], updatedAt: '2026-01-01' }], nextCursor: 'm1' }));
    service.behave(json({ items: [{ id: 'a', tags: ['y', 'x'], updatedAt: '2026-02-02' }], nextCursor: 's1' }));
    await gw.api.get('/api/products');
    const r = await comparedAtLeast(2);
    expect(r.matched).toBe(2);
  });

  test('When the sides differ, the mismatch is kept with both bodies, the diff and both trace ids', async () => {
    monolith.behave(json({ items: [{ id: 'a', priceCents: 100 }, { id: 'b', priceCents: 200 }] }));
    service.behave(json({ items: [{ id: 'a', priceCents: 100 }, { id: 'b', priceCents: 250 }] }));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await gw.api.get('/api/products?limit=2', undefined, { traceparent, 'x-request-id': 'req-diff' });
    const r = await comparedAtLeast(3);
    expect(r).toMatchObject({ compared: 3, matched: 2, mismatched: 1 });
    const [m] = r.mismatches;
    expect(m).toMatchObject({ method: 'GET', path: '/api/products?limit=2', statusMatch: true });
    expect(m.diff).toEqual([{ op: 'replace', path: '/items/1/priceCents', value: 250 }]);
    expect(m.primary).toMatchObject({ side: 'monolith', status: 200, requestId: 'req-diff', traceparent, body: { items: [{ id: 'a' }, { id: 'b', priceCents: 200 }] } });
    expect(m.candidate).toMatchObject({ side: 'extracted', status: 200, requestId: 'req-diff-shadow', body: { items: [{}, { priceCents: 250 }] } });
    // Same trace, its own span: the candidate's call shows up in the same trace in Jaeger.
    expect(m.candidate.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(m.candidate.traceparent).not.toBe(traceparent);
  });

  test('A different status is a mismatch even with equal bodies', async () => {
    monolith.behave(json({ code: 'X' }, 404));
    service.behave(json({ code: 'X' }, 500));
    const res = await gw.api.get('/api/products/missing');
    expect(res.status).toBe(404);
    const r = await comparedAtLeast(4);
    expect(r.mismatches[0]).toMatchObject({ statusMatch: false, primary: { status: 404 }, candidate: { status: 500 } });
  });

  test('Mismatches are kept bounded: only the most recent ones', async () => {
    monolith.behave(json({ n: 0 }));
    for (let i = 1; i <= 5; i++) {
      service.behave(json({ n: i }));
      await gw.api.get(`/api/products/n${i}`);
      await comparedAtLeast(4 + i);
    }
    const r = await report();
    expect(r.mismatched).toBe(7);
    expect(r.mismatches.map((m: { path: string }) => m.path)).toEqual(['/api/products/n5', '/api/products/n4', '/api/products/n3']);
  });

  test('The match rate is a Prometheus metric', async () => {
    const metrics = (await gw.adminApi.get('/metrics')).text;
    expect(metrics).toContain('banyan_gateway_shadow_comparisons_total{domain="products",result="match"} 2');
    expect(metrics).toContain('banyan_gateway_shadow_comparisons_total{domain="products",result="mismatch"} 7');
    expect(metrics).toMatch(/banyan_gateway_shadow_match_rate\{domain="products"\} 0\.222/);
  });

  test('When the candidate is down, the client is unaffected and the comparison counts as an error', async () => {
    monolith.behave('ok');
    await service.stop();
    try {
      const res = await gw.api.get('/api/products/p9');
      expect(res.status).toBe(200);
      const r = await comparedAtLeast(10);
      expect(r.errors).toBe(1);
    } finally {
      await service.restart();
    }
  });
});

describe('Shadow mode with noise measurement', () => {
  test('Fields that differ between two answers of the monolith are noise; real differences are still reported', async () => {
    const monolith = await startStub('monolith');
    const service = await startStub('products-service');
    const gw = await startGateway({ label: 'gw_noise', monolith: monolith.url, services: { products: service.url }, env: { GATEWAY_SHADOW_NOISE: 'true' } });
    try {
      await gw.route('products', 'shadow');
      let n = 0;
      monolith.behave(json(() => ({ id: 'p1', generatedAt: `t${n++}`, stock: 5 })));
      service.behave(json(() => ({ id: 'p1', generatedAt: `s${n++}`, stock: 5 })));
      await gw.api.get('/api/products/p1');
      service.behave(json(() => ({ id: 'p1', generatedAt: `s${n++}`, stock: 4 })));
      await gw.api.get('/api/products/p1');
      const deadline = Date.now() + 5_000;
      let r;
      do {
        await sleep(20);
        r = (await gw.adminApi.get('/shadow/products')).body;
      } while (r.compared < 2 && Date.now() < deadline);
      expect(r).toMatchObject({ compared: 2, matched: 1, noise: true });
      expect(r.mismatches[0].diff).toEqual([{ op: 'replace', path: '/stock', value: 4 }]);
      // The primary was asked twice per request (that is the measurement), the candidate once.
      expect(monolith.seen.length).toBe(4);
      expect(service.seen.length).toBe(2);
    } finally {
      await gw.close();
      await monolith.close();
      await service.close();
    }
  });
});

describe('Shadow mode sends a write once, to the primary only', () => {
  const UNSHADOWED = ['POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'];

  test.each([
    ['without noise measurement', 'false', 1],
    ['with noise measurement, which asks the primary a second time for each read', 'true', 2],
  ])('When POST, PATCH, PUT, DELETE and OPTIONS pass through shadow mode %s, then the primary receives each exactly once and the candidate none, while HEAD and GET are copied', async (_, noise, primaryPerRead) => {
    const monolith = await startStub('monolith');
    const service = await startStub('products-service');
    const gw = await startGateway({ label: `gw_shadow_once_${noise}`, monolith: monolith.url, services: { products: service.url }, env: { GATEWAY_SHADOW_NOISE: noise } });
    try {
      await gw.route('products', 'shadow');
      const path = (method: string) => `/api/products/once-${method.toLowerCase()}`;
      for (const method of [...UNSHADOWED, 'HEAD', 'GET']) {
        const hasBody = ['POST', 'PATCH', 'PUT'].includes(method);
        const res = await fetch(`${gw.url}${path(method)}`, { method, headers: { 'content-type': 'application/json' }, body: hasBody ? '{"stock":1}' : undefined });
        expect(res.status).toBe(200);
        if (method === 'HEAD') await res.arrayBuffer();
        else expect(((await res.json()) as { served: string }).served).toBe('monolith');
      }
      // The reads' comparisons are recorded only once both sides (and the noise probe) answered,
      // after every earlier request was forwarded: when both are in, nothing more is coming.
      const r = await eventually(async () => (await gw.adminApi.get('/shadow/products')).body, {
        until: (b) => b.compared + b.errors >= 2,
        timeoutMs: 5_000,
        what: 'the HEAD and the GET compared',
      });
      expect({ compared: r.compared, errors: r.errors }).toEqual({ compared: 2, errors: 0 });

      const received = (method: string) => ({
        method,
        primary: monolith.seen.filter((s) => s.url === path(method) && s.method === method).length,
        candidate: service.seen.filter((s) => s.url === path(method)).length,
      });
      for (const method of UNSHADOWED) expect(received(method)).toEqual({ method, primary: 1, candidate: 0 });
      for (const method of ['HEAD', 'GET']) expect(received(method)).toEqual({ method, primary: primaryPerRead, candidate: 1 });
      // Nothing else reached either side.
      expect(monolith.seen.length).toBe(UNSHADOWED.length + 2 * primaryPerRead);
      expect(service.seen.length).toBe(2);
    } finally {
      await gw.close();
      await monolith.close();
      await service.close();
    }
  });
});
