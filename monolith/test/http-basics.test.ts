import { startMonolith, type MonolithHarness } from './support/harness';

let h: MonolithHarness;
let api: MonolithHarness['api'];
beforeAll(async () => {
  h = await startMonolith('http_basics');
  api = h.api;
});
afterAll(async () => {
  await h?.close();
});

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.stringContaining(code), title: expect.any(String) });
  expect(res.status).toBe(status);
}

const MiB = 1024 * 1024;

describe('HTTP basics every route shares', () => {
  test.each([
    ['a known route', '/api/users'],
    ['an unknown route', '/api/nowhere'],
  ])('When the JSON sent to %s is malformed, then 400 HTTP.MALFORMED_JSON', async (_what, path) => {
    const res = await api.raw('POST', path, '{"email": "a@example.com", ');

    expectProblem(res, 400, 'HTTP.MALFORMED_JSON');
  });

  test('When the body is over 1 MiB, then 413 HTTP.PAYLOAD_TOO_LARGE', async () => {
    const res = await api.raw('POST', '/api/users', JSON.stringify({ name: 'x'.repeat(MiB) }));

    expectProblem(res, 413, 'HTTP.PAYLOAD_TOO_LARGE');
  });

  test('When the body is just under 1 MiB, then it is parsed and judged on its content instead', async () => {
    const body = JSON.stringify({ email: 'big@example.com', password: 'long enough', name: 'x'.repeat(MiB - 100) });

    const res = await api.raw('POST', '/api/users', body);

    expectProblem(res, 400, 'VALIDATION.FAILED');
  });

  test.each([
    ['GET', '/nowhere'],
    ['POST', '/api/nowhere'],
    ['GET', '/api/users/nobody/here'],
    ['DELETE', '/api/users/me'],
  ])('When %s %s matches no route, then 404 HTTP.NOT_FOUND naming it', async (method, path) => {
    const res = method === 'GET' ? await api.get(path) : await api.raw(method, path, '');

    expectProblem(res, 404, 'HTTP.NOT_FOUND');
    expect(res.body.detail).toContain(path);
    expect(res.body.instance).toBe(path);
  });

  test('When a prober asks /healthz, then 200', async () => {
    const res = await api.get('/healthz');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  test('When a prober asks /readyz with the database up, then 200 and the database check passed', async () => {
    const res = await api.get('/readyz');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { database: true } });
  });

  test('When Prometheus scrapes /metrics after a request, then the request duration histogram has it by route template', async () => {
    await api.get('/api/products?limit=1');

    const res = await api.get('/metrics');

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_server_request_duration_seconds_count\{[^}]*route="\/api\/products\/?"[^}]*\} [1-9]/);
    expect(res.text).toMatch(/process_cpu_user_seconds_total/);
  });

  test('When the caller sends an x-request-id, then the response carries the same id, errors included', async () => {
    const ok = await api.get('/healthz', undefined, { 'x-request-id': 'gateway-req-42' });
    const failed = await api.get('/nowhere', undefined, { 'x-request-id': 'gateway-req-43' });

    expect(ok.headers.get('x-request-id')).toBe('gateway-req-42');
    expect(failed.headers.get('x-request-id')).toBe('gateway-req-43');
  });

  test('When the caller sends no x-request-id or an unsafe one, then the response carries a fresh one', async () => {
    const none = await api.get('/healthz');
    const unsafe = await api.get('/healthz', undefined, { 'x-request-id': 'a b<script>' });

    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(unsafe.headers.get('x-request-id')).not.toBe(none.headers.get('x-request-id'));
  });

  test('When any request fails, then the answer is problem+json with a stable code', async () => {
    const failures = await Promise.all([
      api.raw('POST', '/api/users', '{'),
      api.post('/api/users', {}),
      api.post('/api/users/login', { email: 'nobody@example.com', password: 'whatever it is' }),
      api.get('/api/users/me'),
      api.get('/api/users/me', 'garbage'),
      api.get('/missing'),
    ]);

    for (const res of failures) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expectProblem(res, res.status, res.body.code);
      expect(res.body.code).toMatch(/^[A-Z]+\.[A-Z_]+$/);
    }
  });
});
