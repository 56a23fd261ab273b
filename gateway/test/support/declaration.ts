import path from 'node:path';
import { loadMigration, validateMigration, type Migration, type MigrationDeclaration } from '@banyan/migration';

/** The repository's root, where the shop's banyan.migration.ts lives. */
export const REPO = path.resolve(__dirname, '..', '..', '..');

/**
 * The shop's declaration, resolved against `env` as the real gateway resolves it against its
 * environment (MONOLITH_URL, PRODUCTS_SERVICE_URL, PRODUCTS_DATABASE … as its urlEnv/databaseEnv).
 * Named explicitly, so a BANYAN_MIGRATION in the test's environment changes nothing.
 */
export const shopMigration = (env: NodeJS.ProcessEnv): Migration => loadMigration({ file: path.join(REPO, 'banyan.migration.ts'), env });

/** A declaration written in the test, validated and resolved as a file's would be. */
export const migrationOf = (declaration: MigrationDeclaration, env: NodeJS.ProcessEnv = {}): Migration => validateMigration(declaration, { env });
