import { defineMigration, MigrationDeclarationError, validateMigration, type DomainDeclaration } from '@banyan/migration';

/** Route rules (ADR 0213): a method and a path pattern inside a domain, checked before any tool starts. */
const shopWith = (routes: DomainDeclaration['routes']) =>
  defineMigration({
    name: 'Shop',
    domains: { products: { prefixes: ['/api/products'], service: { url: 'http://127.0.0.1:3102' }, internal: ['internal'], routes } },
  });

const problems = (routes: DomainDeclaration['routes']) => {
  try {
    validateMigration(shopWith(routes), { env: {} });
  } catch (err) {
    if (err instanceof MigrationDeclarationError) return err.problems.map((p) => `${p.path}: ${p.reason}`);
    throw err;
  }
  return [];
};

describe("A domain's route rules", () => {
  test('When rules are declared, then each is resolved with its name (given, or made from its method and path)', () => {
    const migration = validateMigration(
      shopWith([
        { name: 'get-one', method: 'GET', path: '/api/products/:id' },
        { method: 'POST', path: '/api/products/:id/stock' },
      ]),
      { env: {} },
    );

    expect(migration.domains.products.routes).toEqual([
      { name: 'get-one', method: 'GET', path: '/api/products/:id' },
      { name: 'post-api-products-id-stock', method: 'POST', path: '/api/products/:id/stock' },
    ]);
  });

  test('When a domain declares none, then its rules are an empty list', () => {
    expect(validateMigration(shopWith(undefined), { env: {} }).domains.products.routes).toEqual([]);
  });

  test('When a rule has a bad method, a wildcard, an encoded or dot segment, then the start stops with its path and reason', () => {
    expect(
      problems([
        { method: 'TRACE' as 'GET', path: '/api/products/:id' },
        { method: 'GET', path: '/api/products/*' },
        { method: 'GET', path: '/api/products/a%2Fb' },
        { method: 'GET', path: '/api/products/../users' },
        { method: 'GET', path: '/api/products/:' },
      ]),
    ).toEqual([
      'domains.products.routes[0].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE',
      'domains.products.routes[1].path: segment "*" may hold only letters, digits and - . _ ~ ! $ & \' ( ) + , = @ (":name" for a parameter; no wildcards such as "*")',
      'domains.products.routes[2].path: must be a decoded path only: no "?", "#", "%", "\\" or control characters',
      'domains.products.routes[3].path: must not contain "." or ".." segments',
      'domains.products.routes[4].path: parameter ":" must be ":" and a name (letters, digits, _)',
    ]);
  });

  test('When a rule lies outside its prefixes or under an internal segment, then the start stops with its path and reason', () => {
    expect(
      problems([
        { method: 'GET', path: '/api/users/:id' },
        { method: 'GET', path: '/api/productsX/:id' },
        { method: 'POST', path: '/api/products/internal/:id' },
      ]),
    ).toEqual([
      'domains.products.routes[0].path: must lie under one of the domain\'s prefixes (/api/products)',
      'domains.products.routes[1].path: must lie under one of the domain\'s prefixes (/api/products)',
      'domains.products.routes[2].path: "internal" is an internal segment of the domain: the gateway refuses it before any rule',
    ]);
  });

  test('When two rules could match one request, or share a name, then the start stops naming both', () => {
    expect(
      problems([
        { name: 'one', method: 'GET', path: '/api/products/:id' },
        { name: 'featured', method: 'GET', path: '/api/products/featured' },
        { name: 'head', method: 'HEAD', path: '/api/products/:sku' },
        { name: 'one', method: 'PATCH', path: '/api/products/:id' },
      ]),
    ).toEqual([
      'domains.products.routes[1].path: GET /api/products/featured overlaps routes[0] (GET /api/products/:id): a request could match both',
      'domains.products.routes[2].path: HEAD /api/products/:sku overlaps routes[0] (GET /api/products/:id): a request could match both',
      'domains.products.routes[2].path: HEAD /api/products/:sku overlaps routes[1] (GET /api/products/featured): a request could match both',
      'domains.products.routes[3].name: "one" is also the name of routes[0]',
    ]);
  });
});
