import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigrationDeclarationError, loadMigration, loadMigrationData, migrationData } from '@banyan/migration';
import { catalog, json, problemsLoading, project } from './support';

/**
 * A declaration whose module says, in a file, which process loaded it. It imports nothing from
 * Banyan: the child is plain Node, which resolves packages from the project (a temporary directory
 * here), not through jest's module map.
 */
const telltale = (marker: string, declaration: unknown) => `import { writeFileSync } from 'node:fs';

writeFileSync(${JSON.stringify(marker)}, String(process.pid));
export default ${JSON.stringify(declaration, null, 2)};
`;

describe('Loading a declaration as data (the gateway\'s way)', () => {
  it('When the declaration is TypeScript, then it is loaded by another process and its data equals an in-process load without the code', () => {
    const root = project({});
    const marker = join(root, 'loaded-by');
    const declaration = catalog();
    (declaration.domains.books.data.tables[0] as Record<string, unknown>).batch = '__BATCH__';
    const text = telltale(marker, declaration).replace('"__BATCH__"', 'async () => []');
    writeFileSync(join(root, 'banyan.migration.ts'), text);
    const env = { LIBRARY_URL: 'http://127.0.0.1:4999' };

    const data = loadMigrationData({ cwd: root, env });

    expect(Number(readFileSync(marker, 'utf8'))).not.toBe(process.pid);
    expect(data.monolith.url).toBe('http://127.0.0.1:4999');
    expect(data.domains.books.data?.tables[0]).not.toHaveProperty('batch');
    expect(data.domains.books).not.toHaveProperty('parity');
    expect(data).toEqual(migrationData(loadMigration({ cwd: root, env })));
  });

  it('When the declaration has a mistake, then the child\'s problems are thrown as the same MigrationDeclarationError', () => {
    const broken = catalog() as { domains: Record<string, { prefixes: string[] }> };
    broken.domains.books.prefixes = ['books'];
    const root = project({ 'banyan.migration.ts': telltale('/dev/null', broken) });

    let thrown: unknown;
    try {
      loadMigrationData({ cwd: root, env: {} });
    } catch (err) {
      thrown = err;
    }

    expect(thrown).toBeInstanceOf(MigrationDeclarationError);
    expect((thrown as Error).message.split('\n')).toEqual(problemsLoading({ cwd: root, env: {} }));
    expect((thrown as Error).message).toMatch(/^banyan\.migration\.ts: domains\.books\.prefixes\[0\]: /);
  });

  it('When the declaration is JSON, then it loads in-process, as data', () => {
    const root = project({ 'banyan.migration.json': json(catalog()) });

    expect(loadMigrationData({ cwd: root, env: {} })).toEqual(migrationData(loadMigration({ cwd: root, env: {} })));
  });
});
