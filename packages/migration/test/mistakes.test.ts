import { catalog, json, problemsLoading, project } from './support';

type Declaration = ReturnType<typeof catalog> & Record<string, unknown>;

/** The problems a banyan.migration.json gets once `change` is applied to the valid catalog. */
function problemsOf(change: (d: Declaration) => void): string[] {
  const declaration = catalog() as Declaration;
  change(declaration);
  return problemsLoading({ cwd: project({ 'banyan.migration.json': json(declaration) }), env: {} });
}

describe('A wrong declaration stops the load with the file, the path and the reason', () => {
  it('When a domain has no prefixes, then the error says they are required', () => {
    expect(problemsOf((d) => delete (d.domains.loans as { prefixes?: string[] }).prefixes)).toEqual(['banyan.migration.json: domains.loans.prefixes: is required']);
    expect(problemsOf((d) => (d.domains.loans.prefixes = []))).toEqual(['banyan.migration.json: domains.loans.prefixes: must list at least one prefix']);
  });

  it('When a prefix does not start with "/", then the error names that prefix', () => {
    expect(problemsOf((d) => (d.domains.books.prefixes = ['/books', 'authors']))).toEqual([
      'banyan.migration.json: domains.books.prefixes[1]: must start with "/"',
    ]);
  });

  it('When a prefix is ambiguous (a dot segment, an empty segment, an encoding, a trailing "/"), then the gateway\'s reason is given', () => {
    expect(problemsOf((d) => (d.domains.loans.prefixes = ['/loans/../books', '/loans//x', '/loans/%2e', '/loans/', '/a\\b']))).toEqual([
      'banyan.migration.json: domains.loans.prefixes[0]: must not contain "." or ".." segments (the gateway refuses dot segments)',
      'banyan.migration.json: domains.loans.prefixes[1]: must not contain "//" (the gateway refuses empty segments)',
      'banyan.migration.json: domains.loans.prefixes[2]: must not contain "%" (write the path decoded; the gateway refuses encoded paths)',
      'banyan.migration.json: domains.loans.prefixes[3]: must not end with "/" (prefixes match whole segments)',
      'banyan.migration.json: domains.loans.prefixes[4]: must not contain "\\" (the gateway refuses backslashes)',
    ]);
  });

  it('When two domains share a prefix, then the later one is named with the other', () => {
    expect(problemsOf((d) => (d.domains.loans.prefixes = ['/loans', '/authors']))).toEqual([
      'banyan.migration.json: domains.loans.prefixes[1]: "/authors" is also domains.books.prefixes[1]: a path can have only one domain',
    ]);
  });

  it('When one domain\'s prefix lies under another\'s, then the nested one is named with the outer one', () => {
    expect(problemsOf((d) => (d.domains.loans.prefixes = ['/books/loans']))).toEqual([
      'banyan.migration.json: domains.loans.prefixes[0]: "/books/loans" lies under "/books" (domains.books.prefixes[0]): a path can have only one domain',
    ]);
  });

  it('When prefixes only look alike ("/book" and "/books"), then they are two domains\' prefixes without conflict', () => {
    const root = project({ 'banyan.migration.json': json({ ...catalog(), domains: { ...catalog().domains, loans: { ...catalog().domains.loans, prefixes: ['/book'] } } }) });

    expect(() => problemsLoading({ cwd: root, env: {} })).toThrow('the declaration loaded');
  });

  it('When a field is unknown (a typo), then each unknown field is named', () => {
    expect(
      problemsOf((d) => {
        d.domain = {};
        (d.domains.books as Record<string, unknown>).prefix = ['/b'];
      }),
    ).toEqual(['banyan.migration.json: domains.books.prefix: unknown field', 'banyan.migration.json: domain: unknown field']);
  });

  it('When a URL is not an http(s) URL, then its path is named', () => {
    expect(
      problemsOf((d) => {
        d.monolith.url = 'localhost:4000';
        d.domains.loans.service.url = 'ftp://loans';
      }),
    ).toEqual([
      'banyan.migration.json: monolith.url: must be an http:// or https:// URL',
      'banyan.migration.json: domains.loans.service.url: must be an http:// or https:// URL',
    ]);
  });

  it('When a JSON declaration gives a table a batch function, then it is told that functions belong in banyan.migration.ts', () => {
    expect(problemsOf((d) => ((d.domains.books.data.tables[0] as Record<string, unknown>).batch = 'async (db) => db("books")'))).toEqual([
      'banyan.migration.json: domains.books.data.tables[0].batch: a batch function can be declared only in banyan.migration.ts; JSON holds data only',
    ]);
  });

  it('When names, pointers, segments and sticky keys are malformed, then each says what it must be', () => {
    expect(
      problemsOf((d) => {
        (d.domains as Record<string, unknown>).Loans = d.domains.loans;
        delete (d.domains as Record<string, unknown>).loans;
        d.domains.books.internal = ['Internal'];
        (d.domains.books as Record<string, unknown>).compare = { ignore: ['nextCursor'] };
        (d.domains.books as Record<string, unknown>).stickyKey = { header: 'member id' };
        d.domains.books.data.tables[0].columns = ['title'];
      }),
    ).toEqual([
      'banyan.migration.json: domains.books.stickyKey.header: must be an HTTP header name',
      'banyan.migration.json: domains.books.compare.ignore[0]: must be a JSON pointer such as "/items/*/id"',
      'banyan.migration.json: domains.books.internal[0]: must be one lower-case path segment (the gateway compares segments lower-cased)',
      'banyan.migration.json: domains.books.data.tables[0].columns: must include the key column "id"',
      'banyan.migration.json: domains.Loans: "Loans" must be a lower-case name (a-z, 0-9, _ -, starting with a letter)',
    ]);
  });

  it("When a service's start is malformed, then each part says what it must be", () => {
    expect(
      problemsOf((d) => {
        (d.domains.books.service as Record<string, unknown>).start = { node: '/opt/books/main.js', env: { 'keys-url': 'x' }, secrets: ['token'] };
        (d.domains.loans.service as Record<string, unknown>).start = { entry: 'loans.js' };
      }),
    ).toEqual([
      "banyan.migration.json: domains.books.service.start.node: must be a path relative to the declaration's directory",
      'banyan.migration.json: domains.books.service.start.env["keys-url"]: "keys-url" must be an environment variable name (A-Z, 0-9, _)',
      'banyan.migration.json: domains.books.service.start.secrets[0]: must be an environment variable name (A-Z, 0-9, _)',
      'banyan.migration.json: domains.loans.service.start.node: is required',
      'banyan.migration.json: domains.loans.service.start.entry: unknown field',
    ]);
  });

  it('When a data spec has no database to read from or write to, then the missing one is named', () => {
    expect(
      problemsOf((d) => {
        delete (d.monolith as { database?: string }).database;
        delete (d.domains.books.service as { database?: string }).database;
      }),
    ).toEqual([
      'banyan.migration.json: domains.books.data.sourceDatabase: is required when monolith.database is not declared',
      'banyan.migration.json: domains.books.data.targetDatabase: is required when domains.books.service.database is not declared',
    ]);
  });

  it('When a file is not JSON at all, then the parser\'s reason is given', () => {
    const [line] = problemsLoading({ cwd: project({ 'banyan.migration.json': '{ "name": ' }), env: {} });

    expect(line).toMatch(/^banyan\.migration\.json: is not valid JSON: /);
  });
});
