import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MigrationDeclarationError, loadMigration, type LoadMigrationOptions } from '@banyan/migration';

const made: string[] = [];

/** A fresh project directory holding `files` (a package.json unless given), removed after the file's tests. */
export function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'banyan-migration-'));
  made.push(root);
  for (const [name, text] of Object.entries({ 'package.json': '{ "name": "adopter" }\n', ...files })) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A small valid declaration, as data; tests change one thing in a copy. */
export const catalog = () => ({
  name: 'Library',
  monolith: { url: 'http://127.0.0.1:4000', urlEnv: 'LIBRARY_URL', database: 'library' },
  domains: {
    books: {
      prefixes: ['/books', '/authors'],
      service: { url: 'http://127.0.0.1:4101', urlEnv: 'BOOKS_SERVICE_URL', database: 'library_books' },
      internal: ['internal'],
      data: { tables: [{ source: 'public.books', target: 'books.books', key: 'id', columns: ['id', 'title'], version: 'version' }] },
    },
    loans: {
      prefixes: ['/loans'],
      service: { url: 'http://loans-service:4102' },
      stickyKey: { header: 'X-Member-Id' },
      compare: { ignore: ['/nextCursor'], unordered: ['/items'] },
    },
  },
});

export const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The lines of the error a load throws (fails the test when it does not throw one). */
export function problemsLoading(options: LoadMigrationOptions): string[] {
  try {
    loadMigration(options);
  } catch (err) {
    if (err instanceof MigrationDeclarationError) return err.message.split('\n');
    throw err;
  }
  throw new Error('the declaration loaded, but a MigrationDeclarationError was expected');
}
