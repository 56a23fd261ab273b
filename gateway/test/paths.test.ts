import { classifyPath } from '../src';
import { startGateway, type GatewayHarness } from './support/gateway';
import { rawStatus, request } from './support/raw';
import { startStub, type Stub } from './support/stub';

/**
 * Attempts to leave a route's prefix or reach an unlisted path. `users` is extracted to its own
 * service in this file; each attempt aims at another domain or outside /api. 400: the target is
 * ambiguous or malformed; 404: it is clean but nothing is routed there.
 */
const ESCAPES: Array<[string, 400 | 404]> = [
  ['/api/users/../orders', 400],
  ['/api/users/./../orders', 400],
  ['/api/users/%2e%2e/orders', 400],
  ['/api/users/%2E%2E/orders', 400],
  ['/api/users/.%2e/orders', 400],
  ['/api/users/%2e./orders', 400],
  ['/api/users/%2e/me', 400],
  ['/api/users/..;/orders', 400],
  ['/api/users/..%3b/orders', 400],
  ['/api/users%2f..%2forders', 400],
  ['/api/users%2F..%2Forders', 400],
  ['/api/users/%2f/orders', 400],
  ['/api/users%5c..%5corders', 400],
  ['/api/users/..\\orders', 400],
  ['/api/users\\..\\orders', 400],
  ['/api\\users', 400],
  ['/api/users/%252e%252e/orders', 400],
  ['/api/users/%252f', 400],
  ['/api/users/%25%32%65%25%32%65/orders', 400],
  ['/api/users/%', 400],
  ['/api/users/%zz', 400],
  ['/api/users/%c0%ae%c0%ae/orders', 400],
  ['/api/users/%00', 400],
  ['/api/users/me%0d%0aX-Injected:1', 400],
  ['/api/users//orders', 400],
  ['//api/users', 400],
  ['/api//users', 400],
  ['/api/users/.well-known/../../orders', 400],
  ['/API/users', 404],
  ['/api/Users', 404],
  ['/api/USERS/me', 404],
  ['/api/usersX', 404],
  ['/api/users.json', 404],
  ['/api/%75sers', 404],
  ['/api', 404],
  ['/api/', 404],
  ['/', 404],
  ['/admin/routes', 404],
  ['/metrics', 404],
  ['/api/internal', 404],
];

describe('Path normalisation and malformed requests', () => {
  let monolith: Stub;
  let users: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    users = await startStub('users-service');
    gw = await startGateway({ label: 'gw_paths', monolith: monolith.url, services: { users: users.url } });
    await gw.route('users', 'extracted');
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
    await users.close();
  });

  test.each(ESCAPES)('%s is refused with %i and reaches no upstream', async (path, status) => {
    const seen = monolith.seen.length + users.seen.length;
    const res = await rawStatus(gw.url, `GET ${path} HTTP/1.1`);
    expect(res).toBe(status);
    expect(monolith.seen.length + users.seen.length).toBe(seen);
  });

  test('Malformed requests never reach an upstream', async () => {
    const seen = monolith.seen.length + users.seen.length;
    // Absolute-form and asterisk-form targets, an over-long target, a bare query.
    expect(await rawStatus(gw.url, 'GET http://127.0.0.1:1/api/users HTTP/1.1')).toBe(400);
    expect(await rawStatus(gw.url, 'OPTIONS * HTTP/1.1')).toBe(400);
    expect(await rawStatus(gw.url, `GET /api/users/${'a'.repeat(5000)} HTTP/1.1`)).toBe(400);
    expect(await rawStatus(gw.url, 'GET ?/api/users HTTP/1.1').catch(() => 400)).toBe(400);
    expect(monolith.seen.length + users.seen.length).toBe(seen);
  });

  test('Refusals are problem+json, counted, and do not echo the attack back unescaped', async () => {
    const res = await request(gw.url, { path: '/api/users/%2e%2e/orders' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'GATEWAY.BAD_PATH', detail: 'The request path is not acceptable: dot segment in path.' });
    const notFound = await request(gw.url, { path: '/api/Users' });
    expect(notFound.json()).toMatchObject({ code: 'HTTP.NOT_FOUND' });
    const metrics = (await gw.adminApi.get('/metrics')).text;
    expect(metrics).toMatch(/banyan_gateway_rejected_requests_total\{status="400"\} \d+/);
  });

  test('Legitimate paths, including dots inside names and encoded ordinary characters, reach their domain', async () => {
    const cases: Array<[string, string]> = [
      ['/api/users', 'users-service'],
      ['/api/users/', 'users-service'],
      ['/api/users/me?x=../../orders', 'users-service'],
      ['/api/users/.well-known/jwks.json', 'users-service'],
      ['/api/users/a.b..c', 'users-service'],
      ['/api/users/caf%C3%A9', 'users-service'],
      ['/api/users/100%25', 'users-service'],
      ['/api/orders/0190a3b4-7c1d-7000-8000-000000000001', 'monolith'],
    ];
    for (const [path, served] of cases) {
      const res = await request(gw.url, { path });
      expect([path, res.status, res.json().served, res.json().url]).toEqual([path, 200, served, path]);
    }
  });

  test('classifyPath names the reason for each refusal', () => {
    expect(classifyPath('/api/users/../orders', gw.gateway.topology)).toEqual({ ok: false, status: 400, reason: 'dot segment in path' });
    expect(classifyPath('/api/users%2forders', gw.gateway.topology)).toEqual({ ok: false, status: 400, reason: 'encoded path separator' });
    expect(classifyPath('/api/users/%E0%A4%A', gw.gateway.topology)).toEqual({ ok: false, status: 400, reason: 'malformed percent-encoding' });
    expect(classifyPath('/api/orders/1', gw.gateway.topology)).toEqual({ ok: true, domain: 'orders' });
  });
});
