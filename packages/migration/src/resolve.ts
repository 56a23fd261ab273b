import { dirname, resolve } from 'node:path';
import type { Scenario } from '@banyan/parity';
import type { DeclarationProblem } from './errors';
import { httpUrl, type CompareRules, type FiguresFunction, type ParityAuthDeclaration, type ParsedMigration, type StickyKey, type TableSyncSpec } from './schema';
import { defaultRuleName, type RuleMethod } from './routes';

/** Where one side of a domain runs, with the environment's overrides applied. */
export interface Target {
  url: string;
  database?: string;
  /** The variables that may override the declared values; kept so tools can say where a value came from. */
  urlEnv?: string;
  databaseEnv?: string;
  /** A service's `start`, its entry made absolute (resolved against the declaration's directory). */
  start?: { node: string; env: Record<string, string>; secrets: string[] };
}

/** The monolith: its target, and what the gateway does with paths under no domain (ADR 0215). */
export interface Monolith extends Target {
  /** Forward a request under no domain's prefix to the monolith instead of answering 404. */
  passThrough: boolean;
  /** With passThrough: prefixes of the monolith the public gateway still refuses (404). */
  internal: string[];
}

/** A domain's data spec in the shape the sync engine takes (@banyan/sync's DomainSyncSpec). */
export interface DataSpec {
  domain: string;
  sourceDatabase: string;
  targetDatabase: string;
  tables: TableSyncSpec[];
}

/** A projection domain's rebuild and verify spec, its databases resolved. */
export interface ProjectionSpec {
  domain: string;
  sourceDatabase: string;
  targetDatabase: string;
  schema: string;
  sourceSchema: string;
  figures?: FiguresFunction;
}

export interface RouteRule {
  name: string;
  method: RuleMethod;
  path: string;
}

export interface Domain {
  name: string;
  prefixes: string[];
  service: Target;
  stickyKey: StickyKey;
  compare: CompareRules;
  internal: string[];
  /** The domain's route rules, each named (ADR 0213); empty when it declares none. */
  routes: RouteRule[];
  data?: DataSpec;
  projection?: ProjectionSpec;
  /** Each scenario with its `domain` filled in; empty when the domain declares none. */
  parity: { scenarios: Scenario[] };
}

/** What `loadMigration` returns: the declaration validated, defaulted and resolved against the environment. */
export interface Migration {
  /** The declaration's absolute path. */
  file: string;
  name: string;
  monolith: Monolith;
  /** How `banyan parity` logs actors in; `auth` absent when the declaration says none. */
  parity: { auth?: ParityAuthDeclaration };
  domains: Record<string, Domain>;
}

const databaseName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Apply `urlEnv`/`databaseEnv` overrides and fill what defaults from elsewhere in the declaration.
 * An override's value is never echoed in a problem: a URL may carry credentials.
 */
export function resolveMigration(parsed: ParsedMigration, file: string, env: NodeJS.ProcessEnv, problems: DeclarationProblem[]): Migration {
  const target = (declared: ParsedMigration['monolith'] | ParsedMigration['domains'][string]['service'], at: string): Target => {
    const resolved: Target = { ...declared };
    if ('start' in declared && declared.start) resolved.start = { ...declared.start, node: resolve(dirname(file), declared.start.node) };
    const url = declared.urlEnv ? env[declared.urlEnv] : undefined;
    if (url) {
      if (httpUrl.safeParse(url).success) resolved.url = url;
      else problems.push({ path: `${at}.urlEnv`, reason: `${declared.urlEnv} (from the environment) must be an http:// or https:// URL` });
    }
    const database = declared.databaseEnv ? env[declared.databaseEnv] : undefined;
    if (database) {
      if (databaseName.test(database)) resolved.database = database;
      else problems.push({ path: `${at}.databaseEnv`, reason: `${declared.databaseEnv} (from the environment) must be a database name (letters, digits, _)` });
    }
    return resolved;
  };

  const monolith: Monolith = { ...target(parsed.monolith, 'monolith'), passThrough: parsed.monolith.passThrough, internal: parsed.monolith.internal };
  const domains: Record<string, Domain> = {};
  for (const [name, declared] of Object.entries(parsed.domains)) {
    const at = `domains.${name}`;
    const service = target(declared.service, `${at}.service`);
    let data: DataSpec | undefined;
    if (declared.data) {
      const sourceDatabase = declared.data.sourceDatabase ?? monolith.database;
      const targetDatabase = declared.data.targetDatabase ?? service.database;
      if (!sourceDatabase) problems.push({ path: `${at}.data.sourceDatabase`, reason: 'is required when monolith.database is not declared' });
      if (!targetDatabase) problems.push({ path: `${at}.data.targetDatabase`, reason: `is required when ${at}.service.database is not declared` });
      data = { domain: name, sourceDatabase: sourceDatabase ?? '', targetDatabase: targetDatabase ?? '', tables: declared.data.tables };
    }
    let projection: ProjectionSpec | undefined;
    if (declared.projection) {
      const { sourceDatabase = monolith.database, targetDatabase = service.database, schema, sourceSchema, figures } = declared.projection;
      if (!sourceDatabase) problems.push({ path: `${at}.projection.sourceDatabase`, reason: 'is required when monolith.database is not declared' });
      if (!targetDatabase) problems.push({ path: `${at}.projection.targetDatabase`, reason: `is required when ${at}.service.database is not declared` });
      projection = { domain: name, sourceDatabase: sourceDatabase ?? '', targetDatabase: targetDatabase ?? '', schema, sourceSchema, ...(figures ? { figures } : {}) };
    }
    const scenarios = (declared.parity?.scenarios ?? []).map((scenario, i): Scenario => {
      if (scenario.domain !== undefined && scenario.domain !== name) {
        problems.push({ path: `${at}.parity.scenarios[${i}].domain`, reason: `is "${scenario.domain}", but the scenario is declared under domain "${name}"` });
      }
      return { ...scenario, domain: name };
    });
    domains[name] = {
      name,
      prefixes: declared.prefixes,
      service,
      stickyKey: declared.stickyKey,
      compare: declared.compare,
      internal: declared.internal,
      routes: declared.routes.map((r) => ({ name: r.name ?? defaultRuleName(r.method, r.path), method: r.method, path: r.path })),
      ...(data ? { data } : {}),
      ...(projection ? { projection } : {}),
      parity: { scenarios },
    };
  }
  return { file, name: parsed.name, monolith, parity: parsed.parity, domains };
}
