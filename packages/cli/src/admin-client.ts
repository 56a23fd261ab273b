import os from 'node:os';

/** Exit codes of the gateway commands, so scripts can tell a typo from an outage. */
export const EXIT = { ok: 0, invalid: 2, unreachable: 3, unauthorized: 4, unavailable: 5 } as const;

/** A failure the user can act on: one message (lines allowed) and the exit code that classifies it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The gateway's admin API failed, or refused. */
export class AdminError extends CliError {}

export interface AdminClientOptions {
  url?: string;
  token?: string;
}

/**
 * The gateway's admin API as the CLI uses it: BANYAN_ADMIN_URL (default the contract's
 * loopback port) and BANYAN_ADMIN_TOKEN. Every failure becomes one line saying what to do.
 */
export function adminClient(options: AdminClientOptions = {}, env: NodeJS.ProcessEnv = process.env) {
  const base = (options.url ?? env.BANYAN_ADMIN_URL ?? 'http://127.0.0.1:8081').replace(/\/+$/, '');
  const token = options.token ?? env.BANYAN_ADMIN_TOKEN;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!token) throw new AdminError('BANYAN_ADMIN_TOKEN is not set: export the token the gateway was started with (`npm start` prints it).', EXIT.invalid);
    const user = `${os.userInfo().username}@${os.hostname()}`.replace(/[^\w.@+-]/g, '_').slice(0, 100);
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'x-banyan-actor': user, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new AdminError(`cannot reach the gateway admin API at ${base} (${cause}): is the gateway running (\`npm start\`)? Set BANYAN_ADMIN_URL if it listens elsewhere.`, EXIT.unreachable);
    }
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the message
    }
    if (res.ok) return parsed as T;
    if (res.status === 401) throw new AdminError(`the gateway refused the admin token (401): BANYAN_ADMIN_TOKEN must be the token the gateway at ${base} was started with.`, EXIT.unauthorized);
    const detail = parsed?.errors?.length ? parsed.errors.map((e: { path: string; message: string }) => `${e.path}: ${e.message}`).join('; ') : parsed?.detail ?? text;
    throw new AdminError(`the gateway answered ${res.status}: ${detail}`, res.status >= 500 ? EXIT.unavailable : EXIT.invalid);
  }

  return {
    base,
    get: <T>(path: string) => call<T>('GET', path),
    put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
  };
}

/** A plain aligned table: readable in a terminal and in a CI log alike. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Run a command action: CliErrors print their message and set their exit code; anything else is a bug. */
export function runAction<A extends unknown[]>(action: (...args: A) => Promise<void>, out: { error(msg: string): void } = console) {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      out.error(`banyan: ${err.message}`);
      process.exitCode = err.exitCode;
    }
  };
}

export interface RouteView {
  domain: string;
  mode: string;
  percent: number;
  stickyKey: string;
  targets: { monolith: string; extracted: string };
  version: number;
  updatedAt: string;
  updatedBy: string;
}

export const describeMode = (r: { mode: string; percent: number }) => (r.mode === 'canary' ? `canary ${r.percent}%` : r.mode);
