import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MigrationDeclarationError, errorMap, problemsOf, type DeclarationProblem } from './errors';
import { resolveMigration, type Migration } from './resolve';
import { migrationSchema } from './schema';

/** The file names a tool looks for, in this order, in each directory it searches. */
export const DECLARATION_FILES = ['banyan.migration.ts', 'banyan.migration.json'] as const;

export interface LoadMigrationOptions {
  /** Where the search starts and what relative paths are relative to; default `process.cwd()`. */
  cwd?: string;
  /** The declaration to load (a tool's `--migration` flag); wins over BANYAN_MIGRATION. */
  file?: string;
  /** Read for BANYAN_MIGRATION and every `urlEnv`/`databaseEnv`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Find, load, validate and resolve the migration's declaration. Synchronous, so a tool can call it
 * first thing and stop there. Throws MigrationDeclarationError naming the file and every problem.
 */
export function loadMigration(options: LoadMigrationOptions = {}): Migration {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const file = findMigration({ ...options, cwd, env });
  const shown = displayName(file, cwd);
  const declaration = file.endsWith('.json') ? readJson(file, shown) : requireTs(file, shown);

  const problems: DeclarationProblem[] = file.endsWith('.json') ? functionsInJson(declaration) : [];
  return validate(declaration, { file, shown, env }, problems);
}

export interface ValidateMigrationOptions {
  /** Read for every `urlEnv`/`databaseEnv`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** What the declaration is called in a problem and in `Migration.file`; default none (it lives in code). */
  file?: string;
}

/**
 * A declaration that is already a value (a test's, or one a host program builds): validated and
 * resolved as `loadMigration` does a file's, throwing the same MigrationDeclarationError. Its
 * `file` is the one named here, else empty.
 */
export function validateMigration(declaration: unknown, options: ValidateMigrationOptions = {}): Migration {
  return validate(declaration, { file: options.file ?? '', shown: options.file, env: options.env ?? process.env }, []);
}

function validate(declaration: unknown, where: { file: string; shown: string | undefined; env: NodeJS.ProcessEnv }, problems: DeclarationProblem[]): Migration {
  const result = migrationSchema.safeParse(declaration, { error: errorMap });
  if (!result.success) {
    const reported = new Set(problems.map((p) => p.path));
    problems.push(...problemsOf(result.error.issues).filter((p) => !reported.has(p.path)));
    throw new MigrationDeclarationError(where.shown, problems);
  }
  const migration = resolveMigration(result.data, where.file, where.env, problems);
  if (problems.length) throw new MigrationDeclarationError(where.shown, problems);
  return migration;
}

/**
 * The declaration's absolute path: `file`, else BANYAN_MIGRATION, else the first
 * banyan.migration.ts or banyan.migration.json from `cwd` up to the project's root.
 */
export function findMigration(options: LoadMigrationOptions = {}): string {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const named = options.file ?? env.BANYAN_MIGRATION;
  if (named) {
    const file = resolve(cwd, named);
    const how = options.file ? '' : ' (BANYAN_MIGRATION)';
    if (!existsSync(file)) throw new MigrationDeclarationError(displayName(file, cwd), [{ path: '', reason: `not found${how}` }]);
    if (!/\.(ts|json)$/.test(file)) throw new MigrationDeclarationError(displayName(file, cwd), [{ path: '', reason: `must be a .ts or .json file${how}` }]);
    return file;
  }
  const searched = searchDirectories(cwd);
  for (const dir of searched) {
    for (const name of DECLARATION_FILES) if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new MigrationDeclarationError(undefined, [
    {
      path: '',
      reason: `no migration declaration: neither ${DECLARATION_FILES.join(' nor ')} in ${searched.join(', ')}; write one at the project's root, or name it with BANYAN_MIGRATION`,
    },
  ]);
}

/**
 * `cwd` and its parents up to the project's root: the nearest directory whose package.json declares
 * workspaces (so a tool started inside a workspace finds the repository's declaration), else the
 * nearest with a package.json, else `cwd` alone.
 */
function searchDirectories(cwd: string): string[] {
  const chain: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    chain.push(dir);
    if (dirname(dir) === dir) break;
  }
  const packageJson = (dir: string) => {
    const path = join(dir, 'package.json');
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as { workspaces?: unknown };
    } catch {
      return {};
    }
  };
  const manifests = chain.map(packageJson);
  let root = manifests.findIndex((m) => m?.workspaces !== undefined);
  if (root === -1) root = manifests.findIndex((m) => m !== undefined);
  return root === -1 ? [cwd] : chain.slice(0, root + 1);
}

function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel : file;
}

function readJson(file: string, shown: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MigrationDeclarationError(shown, [{ path: '', reason: `is not valid JSON: ${(err as Error).message}` }]);
  }
}

/**
 * A TypeScript declaration is required as a module: Node 24 strips its types (so it may use only
 * erasable syntax: no enums, no namespaces, relative imports with their `.ts` extension), and under
 * jest ts-jest compiles it. `export default` and `module.exports =` are both accepted.
 */
function requireTs(file: string, shown: string): unknown {
  // A tool that loads twice (a test, a reload) sees the file as it is now.
  delete require.cache[file];
  let loaded: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(file);
  } catch (err) {
    throw new MigrationDeclarationError(shown, [{ path: '', reason: `could not be loaded: ${(err as Error).message.split('\n')[0]}` }]);
  }
  const exported = loaded as { default?: unknown; __esModule?: boolean } | undefined;
  if (exported && typeof exported === 'object' && 'default' in exported) return exported.default;
  return loaded;
}

/** JSON holds data only; a `batch` (a function in a .ts declaration) has no meaning there. */
function functionsInJson(declaration: unknown): DeclarationProblem[] {
  const problems: DeclarationProblem[] = [];
  const domains = (declaration as { domains?: unknown } | null)?.domains;
  if (!domains || typeof domains !== 'object') return problems;
  for (const [name, domain] of Object.entries(domains)) {
    const tables = (domain as { data?: { tables?: unknown } } | null)?.data?.tables;
    if (!Array.isArray(tables)) continue;
    tables.forEach((table, i) => {
      if (table && typeof table === 'object' && 'batch' in table) {
        problems.push({
          path: `domains.${name}.data.tables[${i}].batch`,
          reason: 'a batch function can be declared only in banyan.migration.ts; JSON holds data only',
        });
      }
    });
  }
  return problems;
}
