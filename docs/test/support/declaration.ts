import { loadMigration, MigrationDeclarationError } from '@banyan/migration';

/**
 * The processes that read the migration's declaration at start (gateway/src/main.ts): their
 * environment holds, beside their zod schema's variables, the ones the declaration names.
 */
export const READS_DECLARATION = new Set(['gateway/dist/main.js']);

/** The variables the repository's declaration reads: each target's urlEnv and databaseEnv (MONOLITH_URL, PRODUCTS_SERVICE_URL …). */
export function declarationVariables(root: string): string[] {
  const migration = loadMigration({ cwd: root, env: {} });
  const targets = [migration.monolith, ...Object.values(migration.domains).map((d) => d.service)];
  return targets.flatMap((t) => [t.urlEnv, t.databaseEnv]).filter((name): name is string => name !== undefined);
}

/** What the declaration says of `env`'s values (a variable that is not a URL), one line per problem; none when it accepts them. */
export function declarationProblems(root: string, env: NodeJS.ProcessEnv): string[] {
  try {
    loadMigration({ cwd: root, env });
    return [];
  } catch (err) {
    if (err instanceof MigrationDeclarationError) return err.message.split('\n');
    throw err;
  }
}
