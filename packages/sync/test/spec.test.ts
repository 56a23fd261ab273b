import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationDeclarationError } from '@banyan/migration';
import { loadSyncSpec, NoSyncSpecError } from '../src';

/** A project of its own: a package.json that marks its root, and its declaration as JSON. */
function project(domains: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'banyan-sync-'));
  writeFileSync(path.join(dir, 'package.json'), '{"name":"library","private":true}');
  writeFileSync(
    path.join(dir, 'banyan.migration.json'),
    JSON.stringify({ name: 'Library', monolith: { url: 'http://127.0.0.1:4000', database: 'library', databaseEnv: 'LIBRARY_DATABASE' }, domains }),
  );
  return dir;
}

const loans = {
  prefixes: ['/loans'],
  service: { url: 'http://127.0.0.1:4102', database: 'loans', databaseEnv: 'LOANS_DATABASE' },
  data: { tables: [{ source: 'public.loans', target: 'loans.loans', key: 'id', columns: ['id', 'due_on'], version: 'version' }] },
};
const members = { prefixes: ['/members'], service: { url: 'http://127.0.0.1:4103' } };

describe("A domain's sync spec comes from the migration's declaration", () => {
  let dir: string;
  beforeAll(() => (dir = project({ loans, members })));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('When a domain declares data, then its spec has its tables and the databases of the monolith and its service', () => {
    const spec = loadSyncSpec('loans', { cwd: dir, env: {} });

    expect(spec).toEqual({ domain: 'loans', sourceDatabase: 'library', targetDatabase: 'loans', tables: loans.data.tables });
  });

  test("When the declaration's database variables are set, then the spec names the databases they name", () => {
    const spec = loadSyncSpec('loans', { cwd: dir, env: { LIBRARY_DATABASE: 'library_copy', LOANS_DATABASE: 'loans_copy' } });

    expect([spec.sourceDatabase, spec.targetDatabase]).toEqual(['library_copy', 'loans_copy']);
  });

  test('When a domain declares no data, or is not declared, then NoSyncSpecError names the domain and the declaration', () => {
    for (const domain of ['members', 'fines', 'constructor']) {
      const thrown = (() => {
        try {
          loadSyncSpec(domain, { cwd: dir, env: {} });
        } catch (err) {
          return err;
        }
      })();
      expect(thrown).toBeInstanceOf(NoSyncSpecError);
      expect(thrown).toMatchObject({ domain, message: `no backfill/verify spec for "${domain}" (banyan.migration.json declares no domains.${domain}.data)` });
    }
  });

  test('When there is no declaration to ask, then the declaration error is thrown, not NoSyncSpecError', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'banyan-sync-'));
    try {
      writeFileSync(path.join(empty, 'package.json'), '{}');

      expect(() => loadSyncSpec('loans', { cwd: empty, env: {} })).toThrow(MigrationDeclarationError);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

test("When the shop's repository is asked, then products' spec is the one its banyan.migration.ts declares (migration/sync/products.ts)", () => {
  const spec = loadSyncSpec('products', { cwd: path.join(__dirname, '..', '..', '..'), env: {} });

  expect(spec).toMatchObject({ domain: 'products', sourceDatabase: 'banyan_monolith', targetDatabase: 'banyan_products' });
  expect(spec.tables.map((t) => t.source)).toEqual(['products.products']);
});
