import { bucketOf } from '../src';
import { createRecentWrites } from '../src/recent-write';
import { startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/** A JWT-shaped token: the gateway only decodes it for bucketing, so no signature is needed here. */
const unsignedToken = (sub: string) =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.sig`;

async function sideFor(gw: GatewayHarness, headers: Record<string, string>) {
  const res = await fetch(`${gw.url}/api/products/1`, { headers });
  await res.arrayBuffer();
  return { route: res.headers.get('x-banyan-route')!, setCookie: res.headers.getSetCookie() };
}

describe('Canary mode', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('products-service');
    gw = await startGateway({ label: 'gw_canary', monolith: monolith.url, services: { products: service.url } });
  });
  // Every test starts at 30 %, whatever the one before it left (a failed one included).
  beforeEach(() => gw.route('products', 'canary', 30));
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await service.close();
  });

  test("When a user sends 100 requests, all of them land on the same side, with the user's bucket in the header", async () => {
    for (const user of ['user-a', 'user-b', 'user-c', 'user-d']) {
      const routes = new Set<string>();
      for (let i = 0; i < 100; i++) routes.add((await sideFor(gw, { authorization: `Bearer ${unsignedToken(user)}` })).route);
      expect(routes.size).toBe(1);
      const bucket = bucketOf(`sub:${user}`);
      expect([...routes][0]).toBe(`${bucket < 30 ? 'extracted' : 'monolith'}; mode=canary; bucket=${bucket}`);
    }
  });

  test('When 10,000 users arrive, the service receives the requests of the users whose bucket is under the percent, within ±2% of the percent, and the monolith the others', async () => {
    const users = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`);
    const path = (user: string) => `/api/products/split-${user}`;
    const queue = [...users];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let user = queue.pop(); user; user = queue.pop()) {
          const res = await fetch(`${gw.url}${path(user)}`, { headers: { authorization: `Bearer ${unsignedToken(user)}` } });
          expect(res.status).toBe(200);
          await res.arrayBuffer();
        }
      }),
    );
    // Counted where the requests arrived, against the side the gateway's own bucketing says.
    const arrived = (stub: Stub) => stub.seen.filter((s) => s.url.startsWith('/api/products/split-')).map((s) => s.url);
    const atService = new Set(arrived(service));
    const atMonolith = new Set(arrived(monolith));
    expect(arrived(service).length + arrived(monolith).length).toBe(users.length);
    const expectedAtService = new Set(users.filter((u) => bucketOf(`sub:${u}`) < 30));
    // No user on the wrong side, none on both or neither.
    expect(users.filter((u) => atService.has(path(u)) !== expectedAtService.has(u) || atMonolith.has(path(u)) === atService.has(path(u)))).toEqual([]);
    expect(atService.size / users.length).toBeGreaterThanOrEqual(0.28);
    expect(atService.size / users.length).toBeLessThanOrEqual(0.32);
  }, 60_000);

  test('Without a token the gateway sets a sticky cookie, and the cookie keeps the client on its side', async () => {
    const first = await sideFor(gw, {});
    expect(first.setCookie).toHaveLength(1);
    expect(first.setCookie[0]).toMatch(/^banyan_sticky=[0-9a-f-]{36}; Path=\/; Max-Age=31536000; HttpOnly; SameSite=Lax$/);
    const cookie = first.setCookie[0].split(';')[0];
    for (let i = 0; i < 50; i++) {
      const next = await sideFor(gw, { cookie: `other=1; ${cookie}` });
      expect(next.route).toBe(first.route);
      expect(next.setCookie).toEqual([]);
    }
  });

  test('Raising the percent only moves users from the monolith to the service, never back', () => {
    const users = Array.from({ length: 2_000 }, (_, i) => `sub:user-${i}`);
    let previous = new Set<string>();
    for (const percent of [0, 5, 10, 25, 50, 75, 100]) {
      const onService = new Set(users.filter((u) => bucketOf(u) < percent));
      for (const u of previous) expect(onService.has(u)).toBe(true);
      previous = onService;
    }
    expect(previous.size).toBe(users.length);
  });

  test('Writes are not split: a user whose reads go to the service sends POST, PATCH and DELETE to the monolith, the one writer (ADR 0304)', async () => {
    await gw.route('products', 'canary', 100);
    const token = unsignedToken('writer-on-the-service');
    expect((await sideFor(gw, { authorization: `Bearer ${token}` })).route).toMatch(/^extracted; mode=canary/);
    const before = service.seen.length;
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) {
      const res = await fetch(`${gw.url}/api/products/1`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      await res.arrayBuffer();
      expect([method, res.headers.get('x-banyan-route')]).toEqual([method, `monolith; mode=canary; bucket=${bucketOf('sub:writer-on-the-service')}; writer`]);
    }
    expect(service.seen.length).toBe(before);
  });

  test('Canary 0 sends everyone to the monolith and canary 100 everyone to the service', async () => {
    await gw.route('products', 'canary', 0);
    for (let i = 0; i < 20; i++) expect((await sideFor(gw, { authorization: `Bearer ${unsignedToken(`u${i}`)}` })).route).toMatch(/^monolith; mode=canary/);
    await gw.route('products', 'canary', 100);
    for (let i = 0; i < 20; i++) expect((await sideFor(gw, { authorization: `Bearer ${unsignedToken(`u${i}`)}` })).route).toMatch(/^extracted; mode=canary/);
  });
});

describe('Canary read-your-writes (ADR 0304)', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;
  const WINDOW_MS = 1_500;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('products-service');
    gw = await startGateway({ label: 'gw_ryw', monolith: monolith.url, services: { products: service.url }, env: { GATEWAY_READ_YOUR_WRITES_MS: String(WINDOW_MS) } });
    await gw.route('products', 'canary', 100);
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await service.close();
  });

  const write = async (token: string) => {
    const res = await fetch(`${gw.url}/api/products`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    await res.arrayBuffer();
    const mark = res.headers.getSetCookie().find((c) => c.startsWith('banyan_w_products='));
    return { route: res.headers.get('x-banyan-route'), mark, cookie: mark?.split(';')[0] ?? '' };
  };

  test('When a user whose reads go to the service writes, then their reads of that domain go to the writer for the window, saying so, and then back to the service', async () => {
    const token = unsignedToken('reader-who-writes');
    const bucket = bucketOf('sub:reader-who-writes');
    expect((await sideFor(gw, { authorization: `Bearer ${token}` })).route).toBe(`extracted; mode=canary; bucket=${bucket}`);

    const written = await write(token);

    expect(written.route).toBe(`monolith; mode=canary; bucket=${bucket}; writer`);
    expect(written.mark).toMatch(/^banyan_w_products=\d+\.[A-Za-z0-9_-]{22}; Path=\/; Max-Age=2; HttpOnly; SameSite=Lax$/);
    const read = await sideFor(gw, { authorization: `Bearer ${token}`, cookie: written.cookie });
    expect(read.route).toBe(`monolith; mode=canary; bucket=${bucket}; recent-write`);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 50));
    expect((await sideFor(gw, { authorization: `Bearer ${token}`, cookie: written.cookie })).route).toBe(`extracted; mode=canary; bucket=${bucket}`);
  });

  test('When the mark is another user’s, tampered, stretched past the window, or for another domain, then it steers nothing', async () => {
    // A products read only looks at the products mark: "another domain" is checked on the
    // verifier itself, with the gateway's own key, below.
    const mine = await write(unsignedToken('mark-owner'));
    const [name, value] = mine.cookie.split('=');
    const [expires, signature] = value.split('.');
    const other = { authorization: `Bearer ${unsignedToken('someone-else')}` };
    const owner = { authorization: `Bearer ${unsignedToken('mark-owner')}` };
    // The first character carries six bits of the signature (the last one partly padding).
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const cases: Array<[string, Record<string, string>]> = [
      ['another user', { ...other, cookie: mine.cookie }],
      ['tampered signature', { ...owner, cookie: `${name}=${expires}.${flipped}` }],
      ['stretched expiry', { ...owner, cookie: `${name}=${Number(expires) + 3_600_000}.${signature}` }],
    ];
    for (const [label, headers] of cases) expect([label, (await sideFor(gw, headers)).route]).toEqual([label, expect.stringMatching(/^extracted; mode=canary; bucket=\d+$/)]);
    // The owner's own, untouched mark still works.
    expect((await sideFor(gw, { ...owner, cookie: mine.cookie })).route).toMatch(/; recent-write$/);
    const [{ key }] = await gw.db.knex('gateway.keys').where({ name: 'read-your-writes' }).select('key');
    const verifier = createRecentWrites(() => key, WINDOW_MS);
    expect(verifier.recent(mine.cookie, 'products', 'sub:mark-owner')).toBe(true);
    expect(verifier.recent(`banyan_w_orders=${value}`, 'orders', 'sub:mark-owner')).toBe(false);
  });

  test('When the client has no token, then the mark is bound to its sticky cookie, given with the first write', async () => {
    const res = await fetch(`${gw.url}/api/products`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await res.arrayBuffer();
    const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
    expect(cookies.map((c) => c.split('=')[0])).toEqual(['banyan_sticky', 'banyan_w_products']);
    expect((await sideFor(gw, { cookie: cookies.join('; ') })).route).toMatch(/^monolith; mode=canary; bucket=\d+; recent-write$/);
    expect((await sideFor(gw, { cookie: cookies[0] })).route).toMatch(/^extracted; mode=canary; bucket=\d+$/);
  });
});
