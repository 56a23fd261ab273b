import { defineMigration, MigrationDeclarationError } from '@banyan/migration';
import { topologyOf } from '../src';
import { migrationOf } from './support/declaration';
import { startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/**
 * The gateway knows no domain of its own: a library's declaration, which shares no name with the
 * shop, is all it takes to route a library. `books` owns two prefixes, `loans` keys its canary on
 * a header the application already sends.
 */
const library = (monolith: string, books: string, loans: string) =>
  defineMigration({
    name: 'Library',
    monolith: { url: monolith },
    domains: {
      books: { prefixes: ['/api/books', '/api/catalogue'], service: { url: books }, internal: ['holds'] },
      loans: { prefixes: ['/api/loans'], service: { url: loans }, stickyKey: { header: 'X-Member-Id' } },
    },
  });

describe("A gateway built from a library's declaration", () => {
  let monolith: Stub;
  let books: Stub;
  let loans: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    books = await startStub('books-service');
    loans = await startStub('loans-service');
    gw = await startGateway({ label: 'gw_library', declaration: library(monolith.url, books.url, loans.url) });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([monolith, books, loans].map((s) => s?.close()));
  });

  test('When the admin API lists the routes, then they are the declared domains, in order, with their targets and sticky keys', async () => {
    const res = await gw.adminApi.get('/routes');

    expect(res.body.routes.map((r: { domain: string; mode: string; targets: unknown; stickyKey: string }) => [r.domain, r.mode, r.targets, r.stickyKey])).toEqual([
      ['books', 'monolith', { monolith: monolith.url, extracted: books.url }, 'jwt sub, else cookie banyan_sticky'],
      ['loans', 'monolith', { monolith: monolith.url, extracted: loans.url }, 'header x-member-id, else cookie banyan_sticky'],
    ]);
  });

  test('When books is switched to its service, then both of its prefixes follow it and loans stays on the monolith', async () => {
    const served = async (path: string) => (await gw.api.get(path)).body.served;
    expect([await served('/api/books/1'), await served('/api/catalogue/new?page=2'), await served('/api/loans')]).toEqual(['monolith', 'monolith', 'monolith']);

    await gw.route('books', 'extracted');

    expect([await served('/api/books/1'), await served('/api/catalogue/new?page=2'), await served('/api/catalogue'), await served('/api/loans')]).toEqual([
      'books-service',
      'books-service',
      'books-service',
      'monolith',
    ]);
    expect(books.seen.map((s) => s.url)).toEqual(['/api/books/1', '/api/catalogue/new?page=2', '/api/catalogue']);
  });

  test("When a request names a shop domain, or a books path that is only nearly a prefix, then nothing routes it (404), and a books internal segment is refused under either prefix", async () => {
    for (const path of ['/api/products', '/api/products/1', '/api/catalogueX', '/API/books', '/api/catalogue/holds', '/api/books/Holds/7', '/api/catalogue/holds;x=1']) {
      const res = await gw.api.get(path);
      expect([path, res.status, res.body.code]).toEqual([path, 404, 'HTTP.NOT_FOUND']);
    }
  });

  test('When the admin API is asked about a shop domain, then it answers GATEWAY.UNKNOWN_DOMAIN naming the declared ones', async () => {
    for (const res of [await gw.adminApi.put('/routes/products', { mode: 'extracted' }), await gw.adminApi.get('/shadow/products'), await gw.adminApi.get('/audit?domain=products')]) {
      expect([res.status, res.body.code, res.body.detail]).toEqual([400, 'GATEWAY.UNKNOWN_DOMAIN', 'Unknown domain "products": use one of books, loans.']);
    }
    expect((await gw.adminApi.get('/routes')).body.routes.map((r: { domain: string }) => r.domain)).toEqual(['books', 'loans']);
  });

  test("When loans is in canary, then a member's X-Member-Id keeps them on one side, without the gateway's cookie", async () => {
    await gw.route('loans', 'canary', 50);
    const sides = new Map<string, Set<string>>();
    for (let member = 0; member < 20; member++) {
      for (let i = 0; i < 3; i++) {
        const res = await gw.api.get('/api/loans/mine', undefined, { 'x-member-id': `member-${member}` });
        expect(res.headers.get('set-cookie')).toBeNull();
        sides.set(`member-${member}`, (sides.get(`member-${member}`) ?? new Set()).add(res.body.served));
      }
    }

    expect([...sides.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...sides.values()].map((s) => [...s][0]))).toEqual(new Set(['monolith', 'loans-service']));
    // Without the header a client falls back to the gateway's cookie.
    expect((await gw.api.get('/api/loans/mine')).headers.get('set-cookie')).toMatch(/^banyan_sticky=/);
  });
});

describe('What a declaration allows but the gateway cannot do', () => {
  test('When a target is https://, then the gateway refuses to be built, naming where and why', () => {
    const migration = migrationOf(
      defineMigration({ name: 'Library', domains: { books: { prefixes: ['/books'], service: { url: 'https://books.example', urlEnv: 'BOOKS_URL' } } } }),
    );

    expect(() => topologyOf(migration)).toThrow(MigrationDeclarationError);
    expect(() => topologyOf(migration)).toThrow(/^domains\.books\.service\.url: must be an http:\/\/ URL \(from BOOKS_URL when set\): the gateway does not forward over TLS/);
  });
});
