import type { ParityAuth, Scenario } from '@banyan/parity';
import { z } from 'zod';

/**
 * What `banyan parity` reads from a declaration, as schemas: @banyan/parity's Scenario (below) and
 * its ParityAuth (`parity.auth`, at the end), so both are checked at start and editors can
 * complete them in JSON. The type stays parity's (the assertion at the bottom fails to
 * compile when the two drift apart); `domain` may be left out, since a scenario sits under its domain.
 */
const rules = z.strictObject({
  ignore: z.array(z.string()).optional(),
  unordered: z.array(z.string()).optional(),
  shape: z.array(z.string()).optional(),
  mask: z.array(z.strictObject({ pattern: z.string(), as: z.string() })).optional(),
  headers: z.array(z.string()).optional(),
});

const step = z.strictObject({
  name: z.string().min(1),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().startsWith('/', 'must start with "/"'),
  body: z.unknown().optional(),
  raw: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  as: z.string().min(1).optional(),
  capture: z.record(z.string(), z.string()).optional(),
  expect: z
    .strictObject({
      status: z.int().min(100).max(599).optional(),
      equals: z.record(z.string(), z.unknown()).optional(),
      length: z.record(z.string(), z.int().min(0)).optional(),
      minLength: z.record(z.string(), z.int().min(0)).optional(),
    })
    .optional(),
  eventually: z.strictObject({ timeoutMs: z.int().positive(), intervalMs: z.int().positive().optional() }).optional(),
  rules: rules.optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  domain: z.string().optional(),
  customers: z.array(z.string().min(1)).optional(),
  steps: z.array(step).min(1, 'must have at least one step'),
  rules: rules.optional(),
});

type Parsed = z.output<typeof scenarioSchema>;
// Both directions, with `domain` filled in: a parity Scenario is a valid declaration scenario, and
// a parsed one (given its domain) is a parity Scenario.
const _fromParity = (s: Scenario): z.input<typeof scenarioSchema> => s;
const _toParity = (s: Parsed & { domain: string }): Scenario => s;
void _fromParity;
void _toParity;

/** An environment variable's name, as every `…Env` field of a declaration takes it. */
export const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)');

/** A request body for parity's login or registration: `{{email}}`, `{{password}}`, `{{name}}` stand for the actor's. */
const authBody = z.record(z.string(), z.unknown());
const authPath = z.string().regex(/^\/[^\s?#]*$/, 'must be a path starting with "/" (no query)');
/**
 * How `banyan parity` logs the scenarios' actors in on the system under test (@banyan/parity knows
 * no application's endpoints): the login, the customers' registration, the admin's account.
 */
export const parityAuthSchema = z
  .strictObject({
    login: z.strictObject({
      path: authPath.describe('POST here to log an actor in, e.g. "/api/session".'),
      body: authBody.default(() => ({ email: '{{email}}', password: '{{password}}' })).describe('The login body; {{email}} and {{password}} are the actor\'s.'),
      token: z.string().min(1).default('token').describe("Where the bearer token is in the login answer's body, e.g. \"token\" or \"data.accessToken\"."),
      id: z.string().min(1).optional().describe("Where the user's id is in the login answer's body, for {{<customer>.id}}."),
    }),
    register: z
      .strictObject({
        path: authPath.describe('POST here to register a customer before it logs in.'),
        body: authBody.default(() => ({ email: '{{email}}', password: '{{password}}', name: '{{name}}' })).describe('The registration body; {{email}}, {{password}} and {{name}} are the customer\'s.'),
      })
      .optional()
      .describe('How a scenario\'s customers are registered; without it scenarios cannot have customers.'),
    admin: z
      .strictObject({
        email: z.string().min(1).describe("The admin account's login."),
        passwordEnv: envName.default('BANYAN_ADMIN_PASSWORD').describe('The variable holding its password.'),
      })
      .optional()
      .describe('The account the `admin` actor logs in as.'),
  })
  .describe('How the scenarios\' actors log in on the system under test.');

// A parsed parity.auth is what @banyan/parity's Target takes as its auth.
const _authToParity = (a: z.output<typeof parityAuthSchema>): ParityAuth => a;
void _authToParity;
