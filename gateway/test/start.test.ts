import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN } from './support/gateway';
import { REPO } from './support/declaration';

/**
 * The gateway's main (the compiled one, as `npm start` and the containers run it) reads the
 * migration's declaration before it opens anything, and stops on one it cannot use: exit 1, one
 * line per problem naming the file, the problem's path in the declaration and why.
 */
const MAIN = path.join(REPO, 'gateway', 'dist', 'main.js');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'banyan-gateway-start-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run the gateway in `dir` until it exits by itself (it must: nothing here lets it start). */
function startGatewayProcess(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No PostgreSQL variables: a gateway that got as far as the database would say so instead.
    const child = spawn(process.execPath, [MAIN], { cwd: dir, env: { PATH: process.env.PATH, BANYAN_ADMIN_TOKEN: ADMIN_TOKEN, PGPORT: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('the compiled gateway exists (npm run build)', () => {
  expect(existsSync(MAIN) ? MAIN : 'run `npx tsc -b` first: these tests start the compiled gateway').toBe(MAIN);
});

test('When BANYAN_MIGRATION names a declaration with mistakes, then the gateway stops at start with the file and each problem\'s path and reason', async () => {
  writeFileSync(
    path.join(dir, 'library.migration.json'),
    JSON.stringify({
      name: 'Library',
      domains: {
        books: { prefixes: ['api/books', '/api/catalogue'], service: { url: 'http://127.0.0.1:4101' } },
        loans: { prefixes: ['/api/catalogue/loans'] },
      },
    }),
  );

  const { code, stderr } = await startGatewayProcess({ BANYAN_MIGRATION: 'library.migration.json' });

  expect(code).toBe(1);
  expect(stderr.trim().split('\n').sort()).toEqual(
    [
      'gateway: library.migration.json: domains.books.prefixes[0]: must start with "/"',
      'gateway: library.migration.json: domains.loans.prefixes[0]: "/api/catalogue/loans" lies under "/api/catalogue" (domains.books.prefixes[1]): a path can have only one domain',
      'gateway: library.migration.json: domains.loans.service: is required',
    ].sort(),
  );
});

test('When BANYAN_MIGRATION names no file, or no declaration is found, then the gateway stops at start saying where it looked', async () => {
  const named = await startGatewayProcess({ BANYAN_MIGRATION: 'nowhere.migration.json' });
  expect([named.code, named.stderr.trim()]).toEqual([1, 'gateway: nowhere.migration.json: not found (BANYAN_MIGRATION)']);

  const none = await startGatewayProcess({});
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/^gateway: no migration declaration: neither banyan\.migration\.ts nor banyan\.migration\.json in /);
});

test('When the declaration is valid but a target is https://, then the gateway stops at start naming it, before it opens anything', async () => {
  writeFileSync(path.join(dir, 'tls.migration.json'), JSON.stringify({ name: 'Library', domains: { books: { prefixes: ['/books'], service: { url: 'https://books.example' } } } }));

  const { code, stderr } = await startGatewayProcess({ BANYAN_MIGRATION: 'tls.migration.json' });

  expect(code).toBe(1);
  expect(stderr.trim()).toMatch(/^gateway: tls\.migration\.json: domains\.books\.service\.url: must be an http:\/\/ URL: the gateway does not forward over TLS/);
});

test('When route rules overlap, lie outside their prefixes or name a bad method, then the gateway stops at start with each one\'s path and reason (ADR 0213)', async () => {
  writeFileSync(
    path.join(dir, 'rules.migration.json'),
    JSON.stringify({
      name: 'Library',
      domains: {
        books: {
          prefixes: ['/api/books'],
          service: { url: 'http://127.0.0.1:4101' },
          routes: [
            { name: 'one', method: 'GET', path: '/api/books/:id' },
            { name: 'new', method: 'GET', path: '/api/books/new' },
            { name: 'loan', method: 'POST', path: '/api/loans/:id' },
            { name: 'trace', method: 'TRACE', path: '/api/books/:id/trace' },
          ],
        },
      },
    }),
  );

  const { code, stderr } = await startGatewayProcess({ BANYAN_MIGRATION: 'rules.migration.json' });

  expect(code).toBe(1);
  expect(stderr.trim().split('\n').sort()).toEqual(
    [
      'gateway: rules.migration.json: domains.books.routes[1].path: GET /api/books/new overlaps routes[0] (GET /api/books/:id): a request could match both',
      'gateway: rules.migration.json: domains.books.routes[2].path: must lie under one of the domain\'s prefixes (/api/books)',
      'gateway: rules.migration.json: domains.books.routes[3].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE',
    ].sort(),
  );
});
