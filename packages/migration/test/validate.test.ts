import { defineMigration, MigrationDeclarationError, validateMigration } from '@banyan/migration';

/** A declaration that is a value (a test's, a host program's) gets the file's checks and resolution, without a file. */
describe('Validating a declaration given as a value', () => {
  const library = defineMigration({
    name: 'Library',
    domains: { books: { prefixes: ['/books'], service: { url: 'http://127.0.0.1:4101', urlEnv: 'BOOKS_SERVICE_URL' } } },
  });

  test('When it is valid, then it is resolved against the given environment, defaults applied', () => {
    const migration = validateMigration(library, { env: { BOOKS_SERVICE_URL: 'http://books:4101' } });

    expect(migration.file).toBe('');
    expect(migration.monolith.url).toBe('http://127.0.0.1:3000');
    expect(migration.domains.books).toMatchObject({ name: 'books', service: { url: 'http://books:4101' }, stickyKey: 'jwt-subject', internal: [], compare: { ignore: [], unordered: [] } });
  });

  test('When it has mistakes, then it throws the loader\'s error, each problem with its path and reason (and the file only when one is named)', () => {
    const wrong = { name: 'Library', domains: { books: { prefixes: ['books'], service: { url: 'http://127.0.0.1:4101', urlEnv: 'BOOKS_SERVICE_URL' } } } };

    expect(() => validateMigration(wrong, { env: {} })).toThrow(new MigrationDeclarationError(undefined, [{ path: 'domains.books.prefixes[0]', reason: 'must start with "/"' }]));
    expect(() => validateMigration(library, { env: { BOOKS_SERVICE_URL: 'nope' }, file: 'in-test' })).toThrow(
      /^in-test: domains\.books\.service\.urlEnv: BOOKS_SERVICE_URL \(from the environment\) must be an http/,
    );
  });
});
