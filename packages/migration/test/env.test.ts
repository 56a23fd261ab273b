import { catalog, json, problemsLoading, project } from './support';
import { loadMigration } from '@banyan/migration';

describe('Targets from the environment', () => {
  const root = project({ 'banyan.migration.json': json({ ...catalog(), monolith: { ...catalog().monolith, databaseEnv: 'LIBRARY_DATABASE' } }) });

  it('When a target\'s urlEnv variable is set, then its value replaces the declared URL', () => {
    const migration = loadMigration({ cwd: root, env: { LIBRARY_URL: 'http://monolith.internal:8000', BOOKS_SERVICE_URL: 'https://books.internal' } });

    expect(migration.monolith.url).toBe('http://monolith.internal:8000');
    expect(migration.domains.books.service.url).toBe('https://books.internal');
    expect(migration.domains.loans.service.url).toBe('http://loans-service:4102');
  });

  it('When a variable is set but empty, then the declared URL stays', () => {
    expect(loadMigration({ cwd: root, env: { LIBRARY_URL: '' } }).monolith.url).toBe('http://127.0.0.1:4000');
  });

  it('When a databaseEnv variable is set, then the database and the data spec that defaults to it follow', () => {
    const migration = loadMigration({ cwd: root, env: { LIBRARY_DATABASE: 'library_copy' } });

    expect(migration.monolith.database).toBe('library_copy');
    expect(migration.domains.books.data?.sourceDatabase).toBe('library_copy');
  });

  it('When an override is not a URL, then the error names the variable and not its value', () => {
    const problems = problemsLoading({ cwd: root, env: { BOOKS_SERVICE_URL: 'books.internal:secret@4101', LIBRARY_DATABASE: 'library; drop' } });

    expect(problems).toEqual([
      'banyan.migration.json: monolith.databaseEnv: LIBRARY_DATABASE (from the environment) must be a database name (letters, digits, _)',
      'banyan.migration.json: domains.books.service.urlEnv: BOOKS_SERVICE_URL (from the environment) must be an http:// or https:// URL',
    ]);
    expect(problems.join('\n')).not.toContain('secret');
  });
});
