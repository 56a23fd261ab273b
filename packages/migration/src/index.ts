export { defineMigration } from './define';
export { loadMigrationData, migrationData, type DomainData, type MigrationData } from './data';
export { DECLARATION_FILES, findMigration, loadMigration, validateMigration, type LoadMigrationOptions, type ValidateMigrationOptions } from './load';
export { MigrationDeclarationError, type DeclarationProblem } from './errors';
export { migrationJsonSchema, migrationJsonSchemaText } from './json-schema';
export { covers, prefixProblem } from './prefixes';
export type { DataSpec, Domain, Migration, Monolith, ProjectionSpec, RouteRule, Target } from './resolve';
export { RULE_METHODS, type RuleMethod } from './routes';
export {
  DEFAULT_MONOLITH_URL,
  migrationSchema,
  type BatchFunction,
  type CompareRules,
  type DomainDeclaration,
  type FiguresFunction,
  type MigrationDeclaration,
  type ParityAuthDeclaration,
  type ParsedMigration,
  type StickyKey,
  type TableSyncSpec,
} from './schema';
