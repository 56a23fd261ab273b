import { AppError } from '@banyan/errors';

/** A failure of the call itself (down, slow, refused our credential): counts toward opening a breaker. */
export class RemoteFailure extends Error {}

export interface JsonPosterOptions {
  /** The service's base URL, e.g. http://127.0.0.1:3102. */
  url: string;
  timeoutMs: number;
  /** The bearer token for each call; asked per call so a short-lived token can be renewed. */
  token?: () => Promise<string | undefined>;
  /** The code of an error answer that carries no problem+json code of its own. */
  fallbackCode: string;
}

/**
 * POST JSON to another process of the system. A 4xx other than 401/403 is the service's answer
 * and comes back as the AppError it sent (same code, status and extras), so a caller's client
 * sees what it would have seen in-process. 5xx, 401/403 (our credential is wrong: a configuration
 * problem no customer retry fixes, which must not look like the customer's fault either),
 * refusals and timeouts are RemoteFailures.
 */
export function jsonPoster(options: JsonPosterOptions) {
  const base = options.url.replace(/\/$/, '');
  return async (path: string, body: unknown): Promise<unknown> => {
    const token = await options.token?.();
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new RemoteFailure(`POST ${path}: ${timedOut ? `no answer within ${options.timeoutMs} ms` : (err as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) return text ? JSON.parse(text) : undefined;
    if (res.status >= 500 || res.status === 401 || res.status === 403) {
      throw new RemoteFailure(`POST ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    }
    const problem = safeJson(text);
    const { type: _t, title: _ti, status: _s, code, detail, instance: _i, ...extras } = problem;
    throw new AppError(String(code ?? options.fallbackCode), res.status, String(detail ?? 'The service refused the call.'), extras);
  };
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}
