/**
 * `loadMigrationData`'s child: loads the declaration named by its one argument with this process's
 * working directory and environment, and prints its data, or the declaration's problems, as JSON.
 */
import { migrationData } from './data';
import { MigrationDeclarationError } from './errors';
import { loadMigration } from './load';

let answer: unknown;
try {
  answer = { migration: migrationData(loadMigration({ file: process.argv[2] })) };
} catch (err) {
  if (!(err instanceof MigrationDeclarationError)) throw err;
  answer = { file: err.file, problems: err.problems };
}
process.stdout.write(JSON.stringify(answer));
