export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * A small real-HTTP client for component tests: `await http(base).post('/api/users', body, token)`.
 * Bodies are JSON unless `raw` is given (to send malformed JSON or oversized payloads).
 */
export function http(baseUrl: string) {
  const call = async (method: string, path: string, body?: unknown, options: { token?: string; raw?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (options.raw !== undefined) {
      payload = options.raw;
      headers['content-type'] ??= 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(baseUrl + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    get: (path: string, token?: string, headers?: Record<string, string>) => call('GET', path, undefined, { token, headers }),
    post: (path: string, body?: unknown, token?: string, headers?: Record<string, string>) => call('POST', path, body, { token, headers }),
    patch: (path: string, body?: unknown, token?: string) => call('PATCH', path, body, { token }),
    put: (path: string, body?: unknown, token?: string) => call('PUT', path, body, { token }),
    delete: (path: string, token?: string) => call('DELETE', path, undefined, { token }),
    raw: (method: string, path: string, raw: string, headers?: Record<string, string>, token?: string) => call(method, path, undefined, { raw, headers, token }),
  };
}
