/**
 * A contract scenario: what a client does, step by step, through the public HTTP API only. The
 * same scenario runs against every target (monolith, extracted service, gateway in each mode),
 * so it may rely on nothing but the contract — no database access, no in-process hooks.
 */
export interface Scenario {
  /** Unique within its domain; reports name it, so write it as a sentence. */
  name: string;
  domain: string;
  /**
   * Customers registered (and logged in) fresh before the first step, each with a unique email.
   * Steps act as them with `as: '<name>'` and read `{{<name>.token}}`, `{{<name>.id}}`,
   * `{{<name>.email}}`. Defaults to every customer name the steps use.
   */
  customers?: string[];
  steps: Step[];
  /** Rules for every step of this scenario, added to each step's own. */
  rules?: Rules;
}

/** `anonymous` sends no token; `admin` uses the target's admin; any other name is a customer. */
export type Actor = 'anonymous' | 'admin' | (string & {});

export interface Step {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** May contain `{{var}}`; values are URL-encoded when substituted into the path. */
  path: string;
  /** JSON body; strings anywhere inside may contain `{{var}}`, and a string that is exactly one `{{var}}` takes the variable's value as is (numbers stay numbers). */
  body?: unknown;
  /** A raw body sent as application/json, for malformed-JSON cases. */
  raw?: string;
  headers?: Record<string, string>;
  as?: Actor;
  /** Variables to read from the response for later steps: `{ productId: 'body.id' }`. */
  capture?: Record<string, string>;
  /** What must hold. Unmet expectations are reported as failures, whatever the other target did. */
  expect?: Expectation;
  /**
   * For eventually consistent reads (a consumer has yet to process an event): retry the step until
   * `expect` holds or the time is up; the last attempt is what gets compared.
   */
  eventually?: { timeoutMs: number; intervalMs?: number };
  rules?: Rules;
}

export interface Expectation {
  status?: number;
  /** Path → the exact value there, after templating (`{ 'body.id': '{{productId}}' }`). */
  equals?: Record<string, unknown>;
  /** Path → the length of the array there. */
  length?: Record<string, number>;
  /** Path → the smallest length the array there may have. */
  minLength?: Record<string, number>;
}

/** Paths in the syntax of ./paths: roots `status`, `headers`, `body`; `*` for any key or index. */
export interface Rules {
  /** Values that legitimately differ between targets; replaced with `<ignored>` (a missing field still shows). */
  ignore?: string[];
  /** Arrays whose order carries no meaning: sorted before they are compared. */
  unordered?: string[];
  /**
   * Values compared by type only (`<string>`, `<number>`, …, arrays keep their length): for reads
   * of shared data, such as a catalog page, whose content depends on what else has run.
   */
  shape?: string[];
  /**
   * Text derived from a per-run value that the built-in rules cannot see, replaced inside every
   * string: `{ pattern: '#[0-9A-F]{8}\\b', as: '#<order-ref>' }` for an order's short reference.
   */
  mask?: Array<{ pattern: string; as: string }>;
  /** Extra response headers to compare, on top of the defaults. */
  headers?: string[];
}

/**
 * How the system under test logs its actors in and registers its customers: the runner knows no
 * application's endpoints (the migration declares them, `parity.auth`). In the bodies, `{{email}}`,
 * `{{password}}` and `{{name}}` stand for the actor's.
 */
export interface ParityAuth {
  /** POST `path` with `body`; the token is at `token` in the answer's body (a path of ./paths, e.g. `token`), the user's id at `id`. */
  login: { path: string; body: Record<string, unknown>; token: string; id?: string };
  /** POST `path` with `body` registers a customer (2xx); without it, scenarios cannot have customers. */
  register?: { path: string; body: Record<string, unknown> };
}

export interface Target {
  name: string;
  baseUrl: string;
  /** How actors log in and customers register here; needed for `admin` by credentials and for customers. */
  auth?: ParityAuth;
  /** A bearer token of an admin user, or credentials to obtain one through `auth.login`. */
  adminToken?: string;
  adminCredentials?: { email: string; password: string };
  /** Sent with every request. A step's own headers win. */
  headers?: Record<string, string>;
  /**
   * Headers for one request, by path: the gateway's route override belongs only on the domain
   * under test — forcing `/api/users` to an extracted side that does not exist would break setup.
   */
  headersFor?: (path: string) => Record<string, string>;
  /**
   * Inspect each response's raw headers; a returned message is recorded as a failure of the step.
   * The CLI uses it to prove the gateway really served the side it was asked for.
   */
  checkResponse?: (path: string, headers: Record<string, string>) => string | undefined;
  /**
   * Called before each retry of an `eventually` step. Real systems leave it out (their relay
   * delivers events); an in-process harness uses it to deliver events without a broker.
   */
  settle?: () => Promise<unknown>;
  /** Per request; a hung target must not hang the comparison. */
  timeoutMs?: number;
}
