import { join } from 'node:path';
import { defineMigration, loadMigration } from '@banyan/migration';
import { catalog, json, problemsLoading, project } from './support';

const tsDeclaration = `import { defineMigration } from '@banyan/migration';

export default defineMigration(${JSON.stringify(catalog(), null, 2)});
`;

describe('Loading a declaration', () => {
  it('When a project has a valid banyan.migration.ts, then it loads with its defaults applied', () => {
    const root = project({ 'banyan.migration.ts': tsDeclaration });

    const migration = loadMigration({ cwd: root, env: {} });

    expect(migration.file).toBe(join(root, 'banyan.migration.ts'));
    expect(migration.name).toBe('Library');
    expect(migration.monolith).toEqual({ url: 'http://127.0.0.1:4000', urlEnv: 'LIBRARY_URL', database: 'library', passThrough: false, internal: [] });
    expect(Object.keys(migration.domains)).toEqual(['books', 'loans']);
    expect(migration.domains.books).toEqual({
      name: 'books',
      prefixes: ['/books', '/authors'],
      service: { url: 'http://127.0.0.1:4101', urlEnv: 'BOOKS_SERVICE_URL', database: 'library_books' },
      stickyKey: 'jwt-subject',
      compare: { ignore: [], unordered: [] },
      internal: ['internal'],
      routes: [],
      data: {
        domain: 'books',
        sourceDatabase: 'library',
        targetDatabase: 'library_books',
        tables: [{ source: 'public.books', target: 'books.books', key: 'id', columns: ['id', 'title'], version: 'version' }],
      },
      parity: { scenarios: [] },
    });
    expect(migration.domains.loans.stickyKey).toEqual({ header: 'x-member-id' });
    expect(migration.domains.loans.compare).toEqual({ ignore: ['/nextCursor'], unordered: ['/items'] });
  });

  it('When a project has a valid banyan.migration.json, then it loads the same as the TypeScript one', () => {
    const fromTs = loadMigration({ cwd: project({ 'banyan.migration.ts': tsDeclaration }), env: {} });
    const root = project({ 'banyan.migration.json': json({ $schema: './node_modules/@banyan/migration/banyan.migration.schema.json', ...catalog() }) });

    const fromJson = loadMigration({ cwd: root, env: {} });

    expect({ ...fromJson, file: '' }).toEqual({ ...fromTs, file: '' });
  });

  it('When a TypeScript declaration assigns module.exports and declares a batch function, then both are accepted', async () => {
    const root = project({
      'banyan.migration.ts': `module.exports = {
  name: 'Library',
  domains: {
    books: {
      prefixes: ['/books'],
      service: { url: 'http://127.0.0.1:4101', database: 'library_books' },
      data: {
        sourceDatabase: 'library',
        tables: [{ source: 'books', target: 'books', key: 'id', columns: ['id'], version: 'version', batch: async (_db: unknown, side: string) => [{ id: side }] }],
      },
    },
  },
};
`,
    });

    const { domains, monolith } = loadMigration({ cwd: root, env: {} });

    expect(monolith.url).toBe('http://127.0.0.1:3000');
    const table = domains.books.data!.tables[0];
    await expect(table.batch!(undefined, 'source', null, 10)).resolves.toEqual([{ id: 'source' }]);
  });

  it('When a tool starts in a subdirectory of a workspace, then it finds the declaration at the workspace root', () => {
    const root = project({
      'package.json': json({ name: 'adopter', workspaces: ['services/*'] }),
      'banyan.migration.json': json(catalog()),
      'services/books/package.json': json({ name: 'books' }),
    });

    expect(loadMigration({ cwd: join(root, 'services', 'books', 'src'), env: {} }).file).toBe(join(root, 'banyan.migration.json'));
  });

  it('When both files exist, then banyan.migration.ts wins; BANYAN_MIGRATION and an explicit file win over both', () => {
    const other = { ...catalog(), name: 'Other' };
    const root = project({
      'banyan.migration.ts': tsDeclaration,
      'banyan.migration.json': json(catalog()),
      'config/other.json': json(other),
      'config/explicit.json': json({ ...catalog(), name: 'Explicit' }),
    });

    expect(loadMigration({ cwd: root, env: {} }).file).toBe(join(root, 'banyan.migration.ts'));
    expect(loadMigration({ cwd: root, env: { BANYAN_MIGRATION: 'config/other.json' } }).name).toBe('Other');
    expect(loadMigration({ cwd: root, env: { BANYAN_MIGRATION: 'config/other.json' }, file: 'config/explicit.json' }).name).toBe('Explicit');
  });

  it('When no declaration exists up to the project root, then the error says where it looked and how to name one', () => {
    const root = project({ 'app/package.json': json({ name: 'app' }) });

    const [line] = problemsLoading({ cwd: join(root, 'app'), env: {} });

    expect(line).toBe(
      `no migration declaration: neither banyan.migration.ts nor banyan.migration.json in ${join(root, 'app')}; write one at the project's root, or name it with BANYAN_MIGRATION`,
    );
  });

  it('When BANYAN_MIGRATION names a missing file, then the error names the file and the variable', () => {
    const root = project({});

    expect(problemsLoading({ cwd: root, env: { BANYAN_MIGRATION: 'nowhere.ts' } })).toEqual(['nowhere.ts: not found (BANYAN_MIGRATION)']);
  });

  it('When a TypeScript declaration throws while loading, then the error names the file and what it threw', () => {
    const root = project({ 'banyan.migration.ts': `throw new Error('no such table list');\nexport default {};\n` });

    expect(problemsLoading({ cwd: root, env: {} })).toEqual(['banyan.migration.ts: could not be loaded: no such table list']);
  });

  it("When a service declares how `banyan start` runs it, then its entry is resolved against the declaration's directory and its lists default to empty", () => {
    const declaration = catalog();
    (declaration.domains.books.service as Record<string, unknown>).start = { node: 'services/books/dist/main.js', env: { KEYS_URL: '{gateway}/keys' } };
    (declaration.domains.loans.service as Record<string, unknown>).start = { node: './loans.js', secrets: ['LOANS_TOKEN'] };
    const root = project({ 'config/library.json': json(declaration) });

    const { domains } = loadMigration({ cwd: root, file: 'config/library.json', env: {} });

    expect(domains.books.service.start).toEqual({ node: join(root, 'config', 'services/books/dist/main.js'), env: { KEYS_URL: '{gateway}/keys' }, secrets: [] });
    expect(domains.loans.service.start).toEqual({ node: join(root, 'config', 'loans.js'), env: {}, secrets: ['LOANS_TOKEN'] });
  });

  it('When defineMigration is given a declaration, then it returns it unchanged', () => {
    const declaration = catalog();

    expect(defineMigration(declaration)).toBe(declaration);
  });
});
