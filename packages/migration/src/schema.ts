import { z } from 'zod';
import { covers, prefixOverlaps, prefixProblem } from './prefixes';
import { routeRuleSchema, ruleProblems } from './routes';
import { envName, parityAuthSchema, scenarioSchema } from './scenario-schema';

/**
 * The declaration of a migration: which paths belong to which domain, where each side of a domain
 * runs, how its shadow responses are compared, and what its data and contract are. One schema,
 * checked once at every tool's start (load.ts); the JSON Schema for editors is generated from it.
 */

export const DEFAULT_MONOLITH_URL = 'http://127.0.0.1:3000';

const DOMAIN_NAME = /^[a-z][a-z0-9_-]*$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Any host name, compose's `books-service` included (z.httpUrl would want a dotted domain). */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
/** A logical database name; the tools put BANYAN_DATABASE_PREFIX in front, as they do today. */
const databaseName = z.string().regex(IDENTIFIER, 'must be a database name (letters, digits, _)').max(63);

const targetShape = {
  /** Overrides `url` when that variable is set and not empty; a bad value stops the load, naming it. */
  urlEnv: envName.optional().describe('An environment variable that, when set, replaces url (e.g. MONOLITH_URL).'),
  database: databaseName.optional().describe("This side's own database (the default source or target of the domain's data spec)."),
  /** Overrides `database` when set and not empty (the overrides `banyan verify` honours today). */
  databaseEnv: envName.optional().describe('An environment variable that, when set, replaces database.'),
};
const monolithSchema = z
  .strictObject({
    url: httpUrl.default(DEFAULT_MONOLITH_URL).describe('Where the monolith answers.'),
    ...targetShape,
    /** ADR 0215: the strangler facade's default route. Off, a path under no domain is 404, as before. */
    passThrough: z
      .boolean()
      .default(false)
      .describe("Send a request under no domain's prefix to the monolith as it is, instead of answering 404: the gateway can then stand in front of the whole monolith while only the declared domains move. Malformed paths are refused all the same."),
    internal: z
      .array(z.string().superRefine((prefix, ctx) => {
        const problem = prefixProblem(prefix);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }))
      .default(() => [])
      .describe('With passThrough: path prefixes of the monolith that the public gateway still refuses (404), e.g. "/admin" or "/internal": whole segments, compared as the monolith would match them (case-insensitively, decoded).'),
  })
  .describe('The monolith: every domain is served here until it is switched.');
/**
 * How `banyan start` runs the service on a developer's machine: `node <entry>` under its supervisor,
 * with the port, database and URLs it derives from this declaration. The entry is the project's
 * business (where its build puts it); a service without `start` is not started.
 */
export const startSchema = z
  .strictObject({
    node: z
      .string()
      .min(1)
      .refine((p) => !/^([\\/]|[A-Za-z]:)/.test(p), "must be a path relative to the declaration's directory")
      .describe("The compiled entry `banyan start` runs with node, relative to the declaration's directory."),
    env: z
      .record(envName, z.string())
      .default(() => ({}))
      .describe('Variables for that process; {gateway}, {gatewayAdmin} and {monolith} stand for the URLs `banyan start` runs those at. A variable already set in the environment wins.'),
    secrets: z
      .array(envName)
      .default(() => [])
      .describe('Variables `banyan start` sets to a random value for the session when the environment has none, for every process: credentials the processes share (a service\'s caller token), which nobody types.'),
  })
  .describe('How `banyan start` runs this service locally.');
const serviceSchema = z
  .strictObject({ url: httpUrl.describe("Where the domain's extracted service answers."), ...targetShape, start: startSchema.optional() })
  .describe("The domain's extracted service.");

const prefixSchema = z.string().superRefine((prefix, ctx) => {
  const problem = prefixProblem(prefix);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * Who a canary request belongs to, so the same person keeps landing on the same side.
 * `jwt-subject` is what the gateway keys on today (gateway/src/sticky.ts): the bearer token's
 * `sub` claim, decoded but not verified (it only picks a bucket), else the gateway's sticky cookie,
 * which it sets when a client has neither. `{ header }` and `{ cookie }` key on a value the
 * application already sends; without it a request falls back to the gateway's cookie.
 */
export const stickyKeySchema = z
  .union(
    [
      z.literal('jwt-subject'),
      z.strictObject({
        header: z
          .string()
          .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
          // Node hands the gateway header names lower-cased.
          .transform((name) => name.toLowerCase()),
      }),
      z.strictObject({ cookie: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a cookie name (letters, digits, _ -)') }),
    ],
    { error: 'must be "jwt-subject", { header: "<name>" } or { cookie: "<name>" }' },
  )
  .default('jwt-subject')
  .describe('Who a canary request belongs to: "jwt-subject" (the bearer token\'s sub, else the gateway\'s cookie), { header } or { cookie }.');

/** A JSON pointer into a response body in which `*` stands for any key or array index. */
const pointer = z.string().regex(/^(\/([^~]|~[01])*)+$/, 'must be a JSON pointer such as "/items/*/id"');

/** gateway/src/domains.ts's CompareRules. */
export const compareSchema = z.strictObject({
  /** Fields whose values legitimately differ between the two sides. */
  ignore: z.array(pointer).default(() => []),
  /** Arrays whose order carries no meaning, compared as multisets. */
  unordered: z.array(pointer).default(() => []),
});

/**
 * One page of rows after `afterKey` (null: from the start), ordered by the key, at most `limit`;
 * `db` is the sync engine's knex for the `side` being read. Typed loosely on purpose: the
 * declaration names no database client, the engine that calls it does.
 */
export type BatchFunction = (db: any, side: 'source' | 'target', afterKey: string | null, limit: number) => Promise<Record<string, unknown>[]>;

const qualifiedTable = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, 'must be a table name, optionally schema-qualified (schema.table)');
const column = z.string().regex(IDENTIFIER, 'must be a column name (letters, digits, _)');

/** @banyan/sync's TableSyncSpec: how one table is copied and compared. */
export const tableSchema = z
  .strictObject({
    source: qualifiedTable,
    target: qualifiedTable,
    key: column,
    columns: z.array(column).min(1, 'must list at least one column'),
    version: column,
    aggregateType: z.string().min(1).optional(),
    secret: z.array(column).optional(),
    batch: z
      .custom<BatchFunction>((value) => typeof value === 'function', 'must be a function (db, side, afterKey, limit) => Promise<rows>')
      .optional(),
  })
  .superRefine((table, ctx) => {
    if (!table.columns.includes(table.key)) ctx.addIssue({ code: 'custom', path: ['columns'], message: `must include the key column "${table.key}"` });
    for (const [i, c] of (table.secret ?? []).entries()) {
      if (!table.columns.includes(c)) ctx.addIssue({ code: 'custom', path: ['secret', i], message: `must be one of the columns ("${c}" is not)` });
    }
  });

/** The domain's data spec (backfill, verify, sync); the databases default to the targets'. */
export const dataSchema = z.strictObject({
  sourceDatabase: databaseName.optional(),
  targetDatabase: databaseName.optional(),
  tables: z.array(tableSchema).min(1, 'must list at least one table'),
});

/**
 * One side's figures for `banyan verify` of a projection: rows each with a string `key` (a day, a
 * product …) and the values to compare, computed from `schema` (the monolith module's, or the live
 * projection version's) over [from, to]. Typed loosely like BatchFunction: the tool passes its knex.
 */
export type FiguresFunction = (db: any, side: 'source' | 'target', range: { from: string; to: string; schema: string }) => Promise<Array<{ key: string } & Record<string, unknown>>>;

/**
 * A domain whose service owns no data, only read models built from events: `banyan backfill`
 * rebuilds a new projection version from the event history and lets it take over (ADR 0110).
 */
export const projectionSchema = z.strictObject({
  schema: z.string().regex(IDENTIFIER, 'must be a schema name (letters, digits, _)').describe("The schema in the service's database holding projection_versions."),
  sourceSchema: z.string().regex(IDENTIFIER, 'must be a schema name (letters, digits, _)').describe("The monolith module's schema, for verify."),
  sourceDatabase: databaseName.optional(),
  targetDatabase: databaseName.optional(),
  figures: z
    .custom<FiguresFunction>((value) => typeof value === 'function', 'must be a function (db, side, { from, to, schema }) => Promise<rows with a key>')
    .optional()
    .describe('What verify compares between the two sides over a date range (a TypeScript declaration only: a function).'),
});

export const domainSchema = z.strictObject({
  prefixes: z
    .array(prefixSchema)
    .min(1, 'must list at least one prefix')
    .describe('Path prefixes the domain owns, e.g. "/api/books": whole segments, no trailing "/", no dot or empty segments, no encoding.'),
  service: serviceSchema,
  stickyKey: stickyKeySchema,
  compare: compareSchema.prefault({}).describe('How shadow responses are compared: JSON pointers ("*" for any key or index) to ignore, and arrays compared without order.'),
  /**
   * First path segments under each prefix that only the system's own processes call: the public
   * gateway answers 404 for them in every mode (gateway/src/domains.ts's INTERNAL_SEGMENTS).
   */
  internal: z
    .array(
      z
        .string()
        .regex(/^[a-z0-9._~-]+$/, 'must be one lower-case path segment (the gateway compares segments lower-cased)')
        .refine((s) => s !== '.' && s !== '..', 'must not be a dot segment'),
    )
    .default(() => [])
    .describe('First path segments under a prefix that the public gateway refuses (404): APIs only the system itself calls.'),
  routes: z
    .array(routeRuleSchema)
    .default(() => [])
    .describe('Route rules: a method and path pattern each, which the gateway can switch apart from the rest of the domain (mode "inherit" until changed).'),
  data: dataSchema.optional().describe("How backfill, verify and sync copy and compare the domain's tables between the two databases."),
  projection: projectionSchema
    .optional()
    .describe('A domain of read models built from events: backfill rebuilds a projection version from the event history, verify compares figures.'),
  parity: z
    .strictObject({ scenarios: z.array(scenarioSchema) })
    .optional()
    .describe("The domain's contract scenarios, run through both sides by `banyan parity`."),
});

export const migrationSchema = z
  .strictObject({
    /** Where an editor finds this file's JSON Schema; ignored by the tools. */
    $schema: z.string().optional(),
    /** What is being migrated, as tools and the dashboard name it. */
    name: z.string().min(1, 'must not be empty').describe('What is being migrated, as the tools name it.'),
    monolith: monolithSchema.prefault({}),
    parity: z
      .strictObject({ auth: parityAuthSchema.optional() })
      .prefault({})
      .describe("What `banyan parity` needs beyond the domains' scenarios."),
    domains: z
      .record(z.string().regex(DOMAIN_NAME, 'must be a lower-case name (a-z, 0-9, _ -, starting with a letter)'), domainSchema)
      .refine((domains) => Object.keys(domains).length > 0, 'must declare at least one domain')
      .describe('The domains being extracted, by lower-case name.'),
  })
  .superRefine(
    (migration, ctx) => {
      for (const o of prefixOverlaps(migration.domains)) {
        const where = `domains.${o.other.domain}.prefixes[${o.other.index}]`;
        const message =
          o.prefix === o.other.prefix
            ? `"${o.prefix}" is also ${where}: a path can have only one domain`
            : `"${o.prefix}" lies under "${o.other.prefix}" (${where}): a path can have only one domain`;
        ctx.addIssue({ code: 'custom', path: ['domains', o.domain, 'prefixes', o.index], message });
      }
      const monolithInternal = Array.isArray(migration.monolith?.internal) ? migration.monolith.internal : [];
      if (monolithInternal.length && migration.monolith?.passThrough !== true) {
        ctx.addIssue({ code: 'custom', path: ['monolith', 'internal'], message: 'has no effect without "passThrough": true (without it every path under no domain is 404 already)' });
      }
      for (const [index, prefix] of monolithInternal.entries()) {
        if (typeof prefix !== 'string' || prefixProblem(prefix)) continue;
        for (const [name, domain] of Object.entries(migration.domains ?? {})) {
          // Case-insensitively, as the gateway compares them (and an express monolith routes).
          const loose = (p: string) => p.toLowerCase();
          const owner = (Array.isArray(domain?.prefixes) ? domain.prefixes : []).find((p) => typeof p === 'string' && (covers(loose(p), loose(prefix)) || covers(loose(prefix), loose(p))));
          if (owner === undefined) continue;
          const message = `"${prefix}" overlaps domains.${name}'s prefix "${owner}": the monolith's internal prefixes cover paths no domain owns (list a domain's own in its internal)`;
          ctx.addIssue({ code: 'custom', path: ['monolith', 'internal', index], message });
        }
      }
      for (const [name, domain] of Object.entries(migration.domains ?? {})) {
        if (!Array.isArray(domain?.routes) || !Array.isArray(domain.prefixes)) continue;
        for (const p of ruleProblems(domain.routes, domain.prefixes, domain.internal ?? [])) ctx.addIssue({ code: 'custom', path: ['domains', name, 'routes', p.index, p.field], message: p.message });
      }
    },
    // Also when other parts are wrong, so one run reports every problem (prefixOverlaps looks only
    // at prefixes that are valid on their own).
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

/** What a declaration file holds (defaults not yet applied): the type `defineMigration` checks. */
export type MigrationDeclaration = z.input<typeof migrationSchema>;
/** A declaration once validated, defaults applied, before the environment is consulted. */
export type ParsedMigration = z.output<typeof migrationSchema>;
export type DomainDeclaration = z.input<typeof domainSchema>;
export type StickyKey = z.output<typeof stickyKeySchema>;
export type CompareRules = z.output<typeof compareSchema>;
export type TableSyncSpec = z.output<typeof tableSchema>;
export type ParityAuthDeclaration = z.output<typeof parityAuthSchema>;
