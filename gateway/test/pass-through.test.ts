import { defineMigration, MigrationDeclarationError, validateMigration } from '@banyan/migration';
import { classifyPath } from '../src';
import { startGateway, type GatewayHarness } from './support/gateway';
import { rawStatus, request } from './support/raw';
import { startStub, type Stub } from './support/stub';

/**
 * A strangler facade in front of a whole monolith (ADR 0215): with `monolith.passThrough`, a path
 * under no domain's prefix goes to the monolith as it is (its login page, its static files, the
 * parts nobody is extracting yet), while the declared domains keep moving. The monolith's own
 * internal prefixes stay refused, spelled any way its express router would still match them.
 */
const declaration = (monolith: string, service: string, passThrough: boolean) =>
  defineMigration({
    name: 'Pass-through',
    monolith: { url: monolith, ...(passThrough ? { passThrough, internal: ['/admin', '/internal/jobs'] } : {}) },
    domains: { books: { prefixes: ['/api/books'], service: { url: service } } },
  });

describe('Paths under no domain', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;
  let closed: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('books-service');
    gw = await startGateway({ label: 'gw_pass', declaration: declaration(monolith.url, service.url, true) });
    closed = await startGateway({ label: 'gw_pass_off', declaration: declaration(monolith.url, service.url, false) });
  });
  afterAll(async () => {
    await gw?.close();
    await closed?.close();
    await Promise.all([monolith, service].map((s) => s?.close()));
  });

  test('When passThrough is on, then a path no domain declares reaches the monolith as it is, body, query and headers included', async () => {
    const before = monolith.seen.length;
    const page = await request(gw.url, { path: '/login?next=%2Fcart' });
    const post = await request(gw.url, { method: 'POST', path: '/session', headers: { 'content-type': 'application/json', cookie: 'sid=1' }, body: '{"user":"ada"}' });
    const root = await request(gw.url, { path: '/' });

    expect([page.status, page.json().url, page.headers['x-banyan-route']]).toEqual([200, '/login?next=%2Fcart', 'monolith; pass-through']);
    expect([post.status, post.json().body]).toEqual([200, '{"user":"ada"}']);
    expect(root.json().url).toBe('/');
    const seen = monolith.seen.slice(before);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /login?next=%2Fcart', 'POST /session', 'GET /']);
    expect(seen[1].headers.cookie).toBe('sid=1');
    // Forwarded like any routed request: the gateway's request id and forwarding headers.
    expect(seen[0].headers['x-request-id']).toBe(page.headers['x-request-id']);
    expect(seen[0].headers['x-forwarded-for']).toBeDefined();
  });

  test('When a domain is switched, then only its own paths move: the rest of the monolith still answers through the gateway', async () => {
    await gw.route('books', 'extracted');
    try {
      const book = await request(gw.url, { path: '/api/books/1' });
      const other = await request(gw.url, { path: '/api/authors/1' });
      expect([book.json().served, other.json().served]).toEqual(['books-service', 'monolith']);
      expect(other.headers['x-banyan-route']).toBe('monolith; pass-through');
    } finally {
      await gw.route('books', 'monolith');
    }
  });

  test.each([
    ['/admin'],
    ['/admin/'],
    ['/admin/users?x=1'],
    ['/Admin/users'],
    ['/ADMIN'],
    ['/%61dmin/users'],
    ['/admin;v=1/users'],
    ['/internal/jobs/run'],
    ['/INTERNAL/Jobs'],
    // An upper-case escape decodes to an upper-case letter: decoded first, then lower-cased.
    ['/%41dmin/users'],
    ['/%41DMIN'],
    ['/a%44min'],
    // A domain's path in another spelling: the monolith's express router would send it to the
    // domain's code there, around the gateway's routing row and switch fence.
    ['/API/books/1'],
    ['/Api/Books'],
    ['/api/%62ooks/1'],
    ['/api/books;v=1/1'],
  ])("When a path is under the monolith's internal prefixes or is a domain's path in another spelling (%s), then it is 404 and the monolith never sees it", async (path) => {
    const before = monolith.seen.length;
    const res = await request(gw.url, { method: 'POST', path, body: '{}', headers: { 'content-type': 'application/json' } });
    expect([res.status, res.json().code]).toEqual([404, 'HTTP.NOT_FOUND']);
    // A request after it, answered: anything the refused one had sent would have arrived first.
    await request(gw.url, { path: '/barrier' });
    expect(monolith.seen.slice(before).map((r) => r.url)).toEqual(['/barrier']);
  });

  test('Paths that only look like an internal prefix, and malformed paths, are told apart', async () => {
    expect(classifyPath('/administrator', gw.gateway.topology)).toEqual({ ok: true, domain: null });
    expect(classifyPath('/internal/jobsite', gw.gateway.topology)).toEqual({ ok: true, domain: null });
    expect(classifyPath('/internal', gw.gateway.topology)).toEqual({ ok: true, domain: null });
    expect(classifyPath('/api/books/1', gw.gateway.topology)).toEqual({ ok: true, domain: 'books' });
    // The front door's checks come first: pass-through forwards nothing it would have refused.
    // `/;x/admin` is `//admin` to a router that drops parameters, `/admin` to one that also merges slashes.
    for (const path of ['/a/../admin', '/%2e%2e/admin', '/a%2fadmin', '//admin', '/a\\b', '/;x/admin', '/;/admin', '/x/;y']) {
      const res = await request(gw.url, { path });
      expect([path, res.status, res.json().code]).toEqual([path, 400, 'GATEWAY.BAD_PATH']);
    }
    // A fragment is no part of an origin-form target; a router that parses one would read `/admin`.
    expect(await rawStatus(gw.url, 'GET /admin#x HTTP/1.1')).toBe(400);
    expect(classifyPath('/admin#x', gw.gateway.topology)).toEqual({ ok: false, status: 400, reason: 'fragment (#) in request target' });
  });

  test('When passThrough is off (the default), then a path no domain declares is 404', async () => {
    const res = await request(closed.url, { path: '/login' });
    expect([res.status, res.json().code]).toEqual([404, 'HTTP.NOT_FOUND']);
    expect(classifyPath('/login', closed.gateway.topology)).toEqual({ ok: false, status: 404, reason: 'no such domain prefix' });
  });

  test('Pass-through requests are counted under their own label, apart from every domain', async () => {
    expect((await request(gw.url, { path: '/counted' })).status).toBe(200);
    const metrics = (await gw.adminApi.get('/metrics')).text;
    expect(metrics).toMatch(/banyan_gateway_requests_total\{[^}]*domain="\(pass-through\)"[^}]*side="monolith"[^}]*\} \d+/);
  });

  test("The declaration refuses a monolith internal prefix that lies under or over a domain's", () => {
    const bad = defineMigration({
      name: 'Overlap',
      monolith: { passThrough: true, internal: ['/api/books/admin', '/api', '/ok'] },
      domains: { books: { prefixes: ['/api/books'], service: { url: 'http://127.0.0.1:1' } } },
    });
    let err: unknown;
    try {
      validateMigration(bad, { env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MigrationDeclarationError);
    const paths = (err as MigrationDeclarationError).problems.map((p) => p.path);
    expect(paths).toEqual(['monolith.internal[0]', 'monolith.internal[1]']);

    // Compared case-insensitively, as the gateway matches them; and useless without passThrough.
    const refused = (declaration: object) => {
      try {
        validateMigration(declaration, { env: {} });
        return [];
      } catch (e) {
        return (e as MigrationDeclarationError).problems.map((p) => `${p.path}: ${p.reason}`);
      }
    };
    const domains = { books: { prefixes: ['/api/books'], service: { url: 'http://127.0.0.1:1' } } };
    expect(refused({ name: 'Case', monolith: { passThrough: true, internal: ['/API'] }, domains })).toEqual([
      `monolith.internal[0]: "/API" overlaps domains.books's prefix "/api/books": the monolith's internal prefixes cover paths no domain owns (list a domain's own in its internal)`,
    ]);
    expect(refused({ name: 'Idle', monolith: { internal: ['/admin'] }, domains })).toEqual([
      'monolith.internal: has no effect without "passThrough": true (without it every path under no domain is 404 already)',
    ]);
  });
});
