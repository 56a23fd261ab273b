import { isAbsolute, relative, sep } from 'node:path';
import type { Command } from 'commander';
import { loadMigration, MigrationDeclarationError, type Domain, type Migration } from '@banyan/migration';
import { CliError, EXIT } from './admin-client';

/** Every command that reads the declaration takes `--migration <file>`, as @banyan/migration names it. */
export interface MigrationOption {
  migration?: string;
}

export function migrationOption(command: Command): Command {
  return command.option('--migration <file>', 'the migration declaration to read (default: BANYAN_MIGRATION, else banyan.migration.ts or .json from here up to the project root)');
}

/**
 * The project's migration, validated: a declaration that cannot be used stops the command before it
 * does anything, printing the file and each problem's path and reason, one per line.
 */
export function readMigration(options: MigrationOption = {}, env: NodeJS.ProcessEnv = process.env): Migration {
  try {
    return loadMigration({ file: options.migration, env });
  } catch (err) {
    if (!(err instanceof MigrationDeclarationError)) throw err;
    const lines = err.message.split('\n').map((line) => `  ${line}`);
    throw new CliError(`the migration declaration${err.file ? ` ${err.file}` : ''} cannot be used:\n${lines.join('\n')}`, EXIT.invalid);
  }
}

/** The declared domains' names, for messages: `users, products and orders`. */
export const declaredNames = (names: string[]): string =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : (names[0] ?? 'none');

/** A declared domain, or a CliError naming the ones the declaration has. */
export function declaredDomain(migration: Migration, name: string): Domain {
  if (Object.hasOwn(migration.domains, name)) return migration.domains[name];
  throw new CliError(`Unknown domain "${name}": ${shownFile(migration)} declares ${declaredNames(Object.keys(migration.domains))}`, EXIT.invalid);
}

/** The declaration's file as a person would type it, relative to where the command runs. */
export function shownFile(migration: Migration, cwd = process.cwd()): string {
  const rel = relative(cwd, migration.file);
  return rel && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel : migration.file;
}
