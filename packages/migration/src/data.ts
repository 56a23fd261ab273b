import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { MigrationDeclarationError, type DeclarationProblem } from './errors';
import { findMigration, loadMigration, type LoadMigrationOptions } from './load';
import type { DataSpec, Domain, Migration, ProjectionSpec } from './resolve';
import type { TableSyncSpec } from './schema';

/** A domain as data: no parity scenarios, no table `batch`, no projection `figures` (code, not data). */
export type DomainData = Omit<Domain, 'parity' | 'data' | 'projection'> & {
  data?: Omit<DataSpec, 'tables'> & { tables: Omit<TableSyncSpec, 'batch'>[] };
  projection?: Omit<ProjectionSpec, 'figures'>;
};

/** What `loadMigrationData` returns. A `Migration` is one too, so code typed with it takes either. */
export type MigrationData = Omit<Migration, 'domains'> & { domains: Record<string, DomainData> };

/** The data of a loaded declaration, its functions left behind. */
export function migrationData(migration: Migration): MigrationData {
  const domains: Record<string, DomainData> = {};
  for (const [name, { parity: _scenarios, data, projection, ...rest }] of Object.entries(migration.domains)) {
    domains[name] = {
      ...rest,
      ...(data ? { data: { ...data, tables: data.tables.map(({ batch: _batch, ...table }) => table) } } : {}),
      ...(projection ? { projection: (({ figures: _figures, ...spec }) => spec)(projection) } : {}),
    };
  }
  return { ...migration, domains };
}

/**
 * The compiled child, also under jest (whose sources are TypeScript that plain Node cannot require
 * by their extensionless imports): `npm test` builds before it runs.
 */
const CHILD = join(__dirname, '..', 'dist', 'data-child.js');

/**
 * `loadMigration`, for a long-running process that routes by the declaration and never runs its
 * code (the gateway): a banyan.migration.ts is loaded, validated and resolved in a short-lived child
 * Node, and only its data comes back. Loading a .ts file in-process starts Node's TypeScript
 * stripper, which stays resident (about 17 MB, measured on Node 24) with the scenarios' code beside
 * it (7 MB for the shop's); the child pays for both and exits. A .json declaration holds data only
 * and loads in-process. Throws what `loadMigration` throws, with the same message.
 */
export function loadMigrationData(options: LoadMigrationOptions = {}): MigrationData {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const file = findMigration({ ...options, cwd, env });
  if (file.endsWith('.json')) return migrationData(loadMigration({ cwd, env, file }));

  const child = spawnSync(process.execPath, [CHILD, file], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  let answer: { migration?: MigrationData; file?: string; problems?: DeclarationProblem[] } | undefined;
  try {
    answer = child.status === 0 ? JSON.parse(child.stdout) : undefined;
  } catch {
    answer = undefined;
  }
  if (answer?.problems) throw new MigrationDeclarationError(answer.file, answer.problems);
  if (answer?.migration) return answer.migration;
  const why = child.error?.message ?? (child.stderr.trim().split('\n').at(-1) || `exit ${child.status ?? child.signal}`);
  throw new Error(`the migration declaration ${file} could not be loaded in a child process (${process.execPath} ${CHILD}): ${why}`);
}
