import type { MigrationDeclaration } from './schema';

/**
 * For `banyan.migration.ts`: returns the declaration as given, so the editor checks it against the
 * schema as it is written. Validation proper (prefix overlaps, URLs) happens when a tool loads it.
 */
export const defineMigration = (declaration: MigrationDeclaration): MigrationDeclaration => declaration;
