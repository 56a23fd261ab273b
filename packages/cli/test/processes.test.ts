import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMigration, type MigrationDeclaration } from '@banyan/migration';
import { processTable } from '../src/dev/processes';

/**
 * `banyan start`'s process table takes the services it runs from the migration declaration: which
 * domains have one to start, their entry, port, URL and database. Here a library of its own, two of
 * whose three services are built.
 */
let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'banyan-processes-'));
  for (const entry of ['monolith/dist/main.js', 'packages/relay/dist/main.js', 'gateway/dist/main.js', 'services/books/dist/main.js', 'services/loans/dist/main.js']) {
    mkdirSync(path.dirname(path.join(root, entry)), { recursive: true });
    writeFileSync(path.join(root, entry), '');
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The library's declaration as declared: processTable applies the environment itself. */
const library = () => {
  const declaration: MigrationDeclaration = {
    name: 'Library',
    monolith: { url: 'http://127.0.0.1:4000', urlEnv: 'LIBRARY_URL', database: 'library' },
    domains: {
      books: {
        prefixes: ['/books'],
        service: {
          url: 'http://127.0.0.1:4101',
          urlEnv: 'BOOKS_SERVICE_URL',
          database: 'library_books',
          databaseEnv: 'BOOKS_DATABASE',
          start: { node: 'services/books/dist/main.js', env: { KEYS_URL: '{gateway}/members/keys', ADMIN_AT: '{gatewayAdmin}', HOME_AT: '{monolith}' } },
        },
      },
      loans: { prefixes: ['/loans'], service: { url: 'http://127.0.0.1:4102', urlEnv: 'LOANS_SERVICE_URL', start: { node: 'services/loans/dist/main.js', secrets: ['LOANS_TOKEN'] } } },
      fines: { prefixes: ['/fines'], service: { url: 'http://127.0.0.1:4103', urlEnv: 'FINES_SERVICE_URL', start: { node: 'services/fines/dist/main.js' } } },
      members: { prefixes: ['/members'], service: { url: 'http://127.0.0.1:4104', urlEnv: 'MEMBERS_SERVICE_URL' } },
    },
  };
  writeFileSync(path.join(root, 'banyan.migration.json'), JSON.stringify(declaration));
  return loadMigration({ cwd: root, env: {} });
};

test('When a domain declares how its service starts, then it runs at its declared port with its database; one not built, or without start, is left out', () => {
  const specs = processTable(root, {}, library());

  expect(specs.map((s) => s.name)).toEqual(['monolith', 'relay', 'books-svc', 'loans-svc', 'gateway']);
  // The relay publishes only once every consumer's queues exist (the history takes what they miss).
  expect(specs.find((s) => s.name === 'relay')!.startAfter).toEqual(['monolith', 'books-svc', 'loans-svc']);
  expect(specs.filter((s) => s.startAfter).map((s) => s.name)).toEqual(['relay']);
  const books = specs.find((s) => s.name === 'books-svc')!;
  expect(books).toMatchObject({ entry: path.join(root, 'services/books/dist/main.js'), url: 'http://127.0.0.1:4101', readyUrl: 'http://127.0.0.1:4101/readyz' });
  expect(books.env).toMatchObject({
    PORT: '4101',
    SERVICE_DATABASE: 'library_books',
    KEYS_URL: 'http://127.0.0.1:8080/members/keys',
    ADMIN_AT: 'http://127.0.0.1:8081',
    HOME_AT: 'http://127.0.0.1:3000',
  });
  expect(specs.find((s) => s.name === 'loans-svc')!.env).not.toHaveProperty('SERVICE_DATABASE');
});

test("When every service's URL is needed, then the monolith, the gateway and each service get each one under the variable the declaration names", () => {
  const specs = processTable(root, {}, library());
  const urls = { BOOKS_SERVICE_URL: 'http://127.0.0.1:4101', LOANS_SERVICE_URL: 'http://127.0.0.1:4102', FINES_SERVICE_URL: 'http://127.0.0.1:4103', MEMBERS_SERVICE_URL: 'http://127.0.0.1:4104' };

  expect(specs.find((s) => s.name === 'monolith')!.env).toMatchObject(urls);
  expect(specs.find((s) => s.name === 'gateway')!.env).toMatchObject({ ...urls, LIBRARY_URL: 'http://127.0.0.1:3000' });
  // A service that calls the monolith or another one (the shop's orders saga) reaches this system's.
  expect(specs.find((s) => s.name === 'books-svc')!.env).toMatchObject({ ...urls, LIBRARY_URL: 'http://127.0.0.1:3000' });
});

test('When ports, URLs, databases or declared variables are set in the environment, then they win', () => {
  const env = { BOOKS_SERVICE_PORT: '5101', LOANS_SERVICE_URL: 'http://loans.internal:80', GATEWAY_PORT: '5080', KEYS_URL: 'http://keys.example/k', BOOKS_DATABASE: 'books_copy' };

  const specs = processTable(root, env, library());

  const books = specs.find((s) => s.name === 'books-svc')!;
  expect(books).toMatchObject({ url: 'http://127.0.0.1:5101', env: { PORT: '5101', SERVICE_DATABASE: 'books_copy', KEYS_URL: 'http://keys.example/k' } });
  // A URL set for a service is what the others are told; it still listens here at its declared port.
  expect(specs.find((s) => s.name === 'gateway')!.env).toMatchObject({ BOOKS_SERVICE_URL: 'http://127.0.0.1:5101', LOANS_SERVICE_URL: 'http://loans.internal:80' });
  expect(specs.find((s) => s.name === 'loans-svc')!.env).toMatchObject({ PORT: '4102' });
});
