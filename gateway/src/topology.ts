import { isAbsolute, relative, sep } from 'node:path';
import { AppError } from '@banyan/errors';
import { compileRule, type CompiledRule } from './rules';
import { MigrationDeclarationError, type CompareRules, type DataSpec, type DeclarationProblem, type MigrationData, type Monolith, type StickyKey } from '@banyan/migration';

/** One declared domain as the gateway routes it. */
export interface DomainRoute {
  name: string;
  /** Where the domain's extracted service answers (`service.url` after its `urlEnv`). */
  serviceUrl: string;
  stickyKey: StickyKey;
  compare: CompareRules;
  /** First segments under each prefix that the public port refuses (404), lower-cased. */
  internal: ReadonlySet<string>;
  /** The domain's route rules, in declaration order (ADR 0213); empty for most domains. */
  rules: readonly CompiledRule[];
  /** The domain's data spec, databases resolved; absent for a domain that declares none. */
  data?: DataSpec;
}

/**
 * What the gateway takes from the migration's declaration (@banyan/migration), built once at
 * start: the domains in declaration order, which path prefix belongs to which, and each domain's
 * targets and rules. Nothing here names an application: the shop is one declaration among others.
 */
export interface Topology {
  /** The declaration, as a person would name it in a message. */
  file: string;
  names: readonly string[];
  monolith: Monolith;
  has(name: string): boolean;
  /** The declared domain `name` (validate a name from outside with `has` first). */
  domain(name: string): DomainRoute;
  /** Every declared prefix and its domain, for paths.ts. */
  prefixes: ReadonlyMap<string, string>;
  /** Every declared route rule by its key (`domain#name`), in declaration order. */
  rules: ReadonlyMap<string, CompiledRule>;
  /**
   * What a path under no domain's prefix gets (ADR 0215): undefined, a 404; else forwarded to the
   * monolith, unless, read as the monolith's router would, it lies under one of `internal` or of
   * the domains' prefixes (both lower-cased whole-segment prefixes).
   */
  passThrough?: { internal: readonly string[]; domainPrefixes: readonly string[] };
}

/**
 * The gateway's view of a validated declaration. Stops the start (MigrationDeclarationError, like
 * the loader's) on what the declaration allows but this gateway cannot do: it forwards over
 * http:// only, so an https:// target would fail on its first request instead.
 */
export function topologyOf(migration: MigrationData): Topology {
  const problems: DeclarationProblem[] = [];
  const httpOnly = (target: { url: string; urlEnv?: string }, at: string) => {
    if (new URL(target.url).protocol === 'http:') return;
    const from = target.urlEnv ? ` (from ${target.urlEnv} when set)` : '';
    problems.push({ path: `${at}.url`, reason: `must be an http:// URL${from}: the gateway does not forward over TLS; put a TLS-terminating proxy beside the target` });
  };
  httpOnly(migration.monolith, 'monolith');

  const domains = new Map<string, DomainRoute>();
  const prefixes = new Map<string, string>();
  for (const [name, declared] of Object.entries(migration.domains)) {
    httpOnly(declared.service, `domains.${name}.service`);
    domains.set(name, {
      name,
      serviceUrl: declared.service.url,
      stickyKey: declared.stickyKey,
      compare: declared.compare,
      internal: new Set(declared.internal),
      rules: declared.routes.map((rule) => compileRule(name, rule)),
      ...(declared.data ? { data: declared.data } : {}),
    });
    for (const prefix of declared.prefixes) prefixes.set(prefix, name);
  }
  if (problems.length) throw new MigrationDeclarationError(shown(migration.file), problems);

  const names = Object.freeze([...domains.keys()]);
  return {
    file: migration.file,
    names,
    monolith: migration.monolith,
    has: (name) => domains.has(name),
    domain(name) {
      const route = domains.get(name);
      if (!route) throw new Error(`"${name}" is not a declared domain`);
      return route;
    },
    prefixes,
    rules: new Map([...domains.values()].flatMap((d) => d.rules.map((r) => [r.key, r] as const))),
    ...(migration.monolith.passThrough
      ? { passThrough: { internal: migration.monolith.internal.map((p) => p.toLowerCase()), domainPrefixes: [...prefixes.keys()].map((p) => p.toLowerCase()) } }
      : {}),
  };
}

/** The file as the loader names it in its problems: relative to the working directory when below it; none for a declaration given as a value. */
function shown(file: string): string | undefined {
  if (!file) return undefined;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel : file;
}

/**
 * `name` when the declaration has it; else the unknown-domain problem (400 GATEWAY.UNKNOWN_DOMAIN)
 * that the admin API and the dashboard answer for a name from outside.
 */
export function declaredDomain(topology: Pick<Topology, 'has' | 'names'>, name: string): string {
  if (topology.has(name)) return name;
  throw new AppError('GATEWAY.UNKNOWN_DOMAIN', 400, `Unknown domain "${name.slice(0, 64)}": use one of ${topology.names.join(', ')}.`);
}

/**
 * The rule `name` of `domain` (a declared one), else the unknown-rule problem (400
 * GATEWAY.UNKNOWN_RULE) the admin API answers for a name from outside.
 */
export function declaredRule(topology: Pick<Topology, 'domain'>, domain: string, name: string): CompiledRule {
  const rules = topology.domain(domain).rules;
  const rule = rules.find((r) => r.name === name);
  if (rule) return rule;
  const known = rules.length ? `use one of ${rules.map((r) => r.name).join(', ')}` : 'it declares none';
  throw new AppError('GATEWAY.UNKNOWN_RULE', 400, `Domain "${domain}" has no route rule "${name.slice(0, 64)}": ${known}.`);
}
