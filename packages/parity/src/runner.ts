import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { normaliseExchanges, type Exchange, type NormalisedStep } from './normalise';
import { getPath } from './paths';
import type { Expectation, ParityAuth, Scenario, Step, Target } from './scenario';
import { fill, fillString, type Vars } from './template';

export interface Transcript {
  scenario: string;
  domain: string;
  target: string;
  steps: NormalisedStep[];
  /** Unmet expectations, failed captures, unreachable targets. A scenario stops at its first hard failure. */
  failures: string[];
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface Attempt {
  exchange: Exchange;
  captured: Vars;
  missing: string[];
  unmet: string[];
}

const DEFAULT_TIMEOUT_MS = 10_000;
const CUSTOMER_PASSWORD = 'parity scenario password';

/** Run every scenario against one target, one after another, each with fresh customers. */
export async function runScenarios(scenarios: Scenario[], target: Target): Promise<Transcript[]> {
  const session = new Session(target);
  const transcripts: Transcript[] = [];
  for (const scenario of scenarios) transcripts.push(await session.run(scenario));
  return transcripts;
}

class Session {
  private adminToken?: Promise<string>;

  constructor(private readonly target: Target) {}

  async run(scenario: Scenario): Promise<Transcript> {
    const run = runId();
    const vars: Vars = { run };
    const exchanges: Exchange[] = [];
    const failures: string[] = [];
    const transcript = () => ({
      scenario: scenario.name,
      domain: scenario.domain,
      target: this.target.name,
      steps: normaliseExchanges(exchanges, { runValues: [run] }),
      failures,
    });

    try {
      for (const name of customersOf(scenario)) Object.assign(vars, await this.registerCustomer(name, run));
    } catch (err) {
      failures.push(`setup: ${(err as Error).message}`);
      return transcript();
    }

    for (const step of scenario.steps) {
      const rules = mergeRules(scenario.rules, step.rules);
      let outcome: Attempt;
      try {
        outcome = await this.attempt(step, vars);
        if (step.eventually) {
          const deadline = Date.now() + step.eventually.timeoutMs;
          const interval = step.eventually.intervalMs ?? 100;
          while (outcome.unmet.length > 0 && Date.now() + interval < deadline) {
            await this.target.settle?.();
            await sleep(interval);
            outcome = await this.attempt(step, vars);
          }
        }
      } catch (err) {
        failures.push(`step "${step.name}": ${(err as Error).message}`);
        break;
      }
      exchanges.push({ ...outcome.exchange, rules });
      failures.push(...outcome.unmet.map((m) => `step "${step.name}": ${m}`));
      Object.assign(vars, outcome.captured);
      if (outcome.missing.length > 0) {
        failures.push(`step "${step.name}": nothing to capture at ${outcome.missing.join(', ')}`);
        break;
      }
    }
    return transcript();
  }

  private async attempt(step: Step, vars: Vars): Promise<Attempt> {
    const path = fillString(step.path, vars, true);
    const requestBody = step.body === undefined ? undefined : fill(step.body, vars);
    const headers: Record<string, string> = { ...this.target.headers, ...this.target.headersFor?.(path) };
    const token = await this.tokenFor(step.as ?? 'anonymous', vars);
    if (token) headers.authorization = `Bearer ${token}`;
    for (const [name, value] of Object.entries(step.headers ?? {})) headers[name.toLowerCase()] = fillString(value, vars);

    const payload = step.raw ?? (requestBody === undefined ? undefined : JSON.stringify(requestBody));
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const response = await this.send(step.method, path, headers, payload);
    const exchange: Omit<Exchange, 'rules'> = { step: step.name, method: step.method, path, requestBody: step.raw ?? requestBody, ...response };
    const captured: Vars = {};
    const missing: string[] = [];
    for (const [name, from] of Object.entries(step.capture ?? {})) {
      const value = getPath(response, from);
      if (value === undefined) missing.push(`${from} (for {{${name}}})`);
      else captured[name] = value;
    }
    // Expectations may name what this very step captured (a Location header holding the new id).
    const unmet = unmetExpectations(step.expect, response, { ...vars, ...captured });
    const wrongSide = this.target.checkResponse?.(path, response.headers);
    if (wrongSide) unmet.push(wrongSide);
    return { exchange: exchange as Exchange, captured, missing, unmet };
  }

  private async send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
    const res = await fetch(new URL(path, this.target.baseUrl), {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.target.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    }).catch((err: Error) => {
      throw new Error(`${method} ${path} on ${this.target.name} failed: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    });
    const text = await res.text();
    const responseHeaders: Record<string, string> = {};
    res.headers.forEach((value, name) => (responseHeaders[name.toLowerCase()] = value));
    let parsed: unknown = text === '' ? null : text;
    if ((responseHeaders['content-type'] ?? '').includes('json') && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Kept as text: a JSON content type over a non-JSON body is itself a difference worth seeing.
      }
    }
    return { status: res.status, headers: responseHeaders, body: parsed };
  }

  private async tokenFor(actor: string, vars: Vars): Promise<string | undefined> {
    if (actor === 'anonymous') return undefined;
    if (actor === 'admin') return this.admin();
    const token = vars[`${actor}.token`];
    if (typeof token !== 'string') throw new Error(`no customer "${actor}": list it in the scenario's customers`);
    return token;
  }

  private admin(): Promise<string> {
    this.adminToken ??= (async () => {
      if (this.target.adminToken) return this.target.adminToken;
      const credentials = this.target.adminCredentials;
      if (!credentials) throw new Error(`target ${this.target.name} has neither an admin token nor admin credentials`);
      const { token } = await this.logIn(this.auth('log the admin in'), { email: credentials.email, password: credentials.password, name: 'admin' });
      return token;
    })();
    // A failed login is retried by the next scenario rather than cached as a rejection forever.
    this.adminToken.catch(() => (this.adminToken = undefined));
    return this.adminToken;
  }

  private auth(what: string): ParityAuth {
    if (!this.target.auth) throw new Error(`cannot ${what} on ${this.target.name}: no login is declared (the migration's parity.auth)`);
    return this.target.auth;
  }

  /** POST the declared login for one actor; its token, and its id when the declaration says where. */
  private async logIn(auth: ParityAuth, actor: Vars): Promise<{ token: string; id?: unknown }> {
    const { path } = auth.login;
    const login = await this.postJson(path, fill(auth.login.body, actor));
    const token = getPath(login.body, auth.login.token);
    if (login.status !== 200 || typeof token !== 'string') {
      throw new Error(`logging in ${String(actor.email)} on ${this.target.name}: POST ${path} answered ${login.status}${typeof token === 'string' ? '' : `, with no token at ${auth.login.token}`}`);
    }
    return { token, ...(auth.login.id ? { id: getPath(login.body, auth.login.id) } : {}) };
  }

  /** A setup request (login, registration): JSON, with the target's headers for its path. */
  private postJson(path: string, body: unknown): Promise<Response> {
    return this.send('POST', path, { ...this.target.headers, ...this.target.headersFor?.(path), 'content-type': 'application/json' }, JSON.stringify(body));
  }

  /** Setup, not part of the comparison: it goes to the declared registration, whichever domain is under test. */
  private async registerCustomer(name: string, run: string): Promise<Vars> {
    const auth = this.auth(`register customer "${name}"`);
    if (!auth.register) throw new Error(`cannot register customer "${name}" on ${this.target.name}: the migration's parity.auth declares no register`);
    const actor = { email: `parity-${run}-${name}@example.com`, password: CUSTOMER_PASSWORD, name: `Parity ${name}` };
    const { path } = auth.register;
    const created = await this.postJson(path, fill(auth.register.body, actor));
    if (created.status < 200 || created.status > 299) throw new Error(`registering customer "${name}": POST ${path} answered ${created.status} ${JSON.stringify(created.body)}`);
    const { token, id } = await this.logIn(auth, actor);
    return { [`${name}.token`]: token, [`${name}.id`]: id, [`${name}.email`]: actor.email };
  }
}

export function unmetExpectations(expect: Expectation | undefined, response: Response, vars: Vars): string[] {
  if (!expect) return [];
  const unmet: string[] = [];
  const show = (v: unknown) => JSON.stringify(v) ?? 'nothing';
  if (expect.status !== undefined && response.status !== expect.status) {
    unmet.push(`expected status ${expect.status}, got ${response.status} ${show(response.body)}`);
  }
  for (const [path, wanted] of Object.entries(expect.equals ?? {})) {
    const expected = fill(wanted, vars);
    const actual = getPath(response, path);
    if (!isDeepStrictEqual(actual, expected)) unmet.push(`expected ${path} = ${show(expected)}, got ${show(actual)}`);
  }
  for (const [path, length] of Object.entries(expect.length ?? {})) {
    const actual = getPath(response, path);
    if (!Array.isArray(actual) || actual.length !== length) unmet.push(`expected ${path} to have ${length} elements, got ${show(actual)}`);
  }
  for (const [path, length] of Object.entries(expect.minLength ?? {})) {
    const actual = getPath(response, path);
    if (!Array.isArray(actual) || actual.length < length) unmet.push(`expected ${path} to have at least ${length} elements, got ${show(actual)}`);
  }
  return unmet;
}

function customersOf(scenario: Scenario): string[] {
  if (scenario.customers) return scenario.customers;
  const actors = scenario.steps.map((s) => s.as ?? 'anonymous').filter((a) => a !== 'anonymous' && a !== 'admin');
  return [...new Set(actors)];
}

function mergeRules(a: Scenario['rules'] = {}, b: Step['rules'] = {}) {
  return {
    ignore: [...(a.ignore ?? []), ...(b.ignore ?? [])],
    unordered: [...(a.unordered ?? []), ...(b.unordered ?? [])],
    shape: [...(a.shape ?? []), ...(b.shape ?? [])],
    mask: [...(a.mask ?? []), ...(b.mask ?? [])],
    headers: [...(a.headers ?? []), ...(b.headers ?? [])],
  };
}

/**
 * Letters g–z only: no hex digit, so a run id can never be found inside a UUID and be masked
 * out of it; eight of them make collisions between concurrent runs negligible.
 */
function runId(): string {
  const letters = 'ghijklmnopqrstuvwxyz';
  return Array.from({ length: 8 }, () => letters[randomInt(letters.length)]).join('');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
