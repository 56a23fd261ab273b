import { z } from 'zod';
import { AppError, Errors } from '@banyan/errors';
import { createHttpApp, decodeCursor, encodeCursor, finishHttpApp, parse, serve, type Served } from '@banyan/http';
import { createLogger } from '@banyan/telemetry';
import { http } from '@banyan/testing';

/**
 * The HTTP base every Banyan process shares, served for real on port 0: request ids, health
 * probes, JSON bodies with the contract's limit, and the one problem+json handler.
 */
const logger = createLogger('http-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const Body = z.object({ email: z.email(), quantity: z.number().int().positive() });

let ready = true;
let served: Served;
let api: ReturnType<typeof http>;
beforeAll(async () => {
  const app = createHttpApp({
    logger,
    readinessChecks: {
      database: async () => ready,
      broker: async () => {
        if (!ready) throw new Error('connection refused');
        return true;
      },
    },
  });
  app.post('/echo', (req, res) => {
    res.status(201).json(parse(Body, req.body));
  });
  app.get('/busy', () => {
    throw Errors.unavailable('busy right now', 12);
  });
  app.get('/bug', () => {
    throw new Error('secret connection string postgres://admin:hunter2@db');
  });
  finishHttpApp(app);
  served = await serve(app);
  api = http(served.url);
});
afterAll(() => served?.close(1_000));

describe('createHttpApp and finishHttpApp', () => {
  test('When a caller sends a sane x-request-id, then it is echoed; when the id is not sane or missing, then a fresh UUID replaces it', async () => {
    expect((await api.get('/healthz', undefined, { 'x-request-id': 'gw-1234:abc' })).headers.get('x-request-id')).toBe('gw-1234:abc');
    const replaced = (await api.get('/healthz', undefined, { 'x-request-id': 'has spaces/and<html>' })).headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    expect((await api.get('/healthz')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('When every readiness check passes, then /readyz is 200; when one fails or throws, then 503 names each check', async () => {
    expect(await api.get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await api.get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', checks: { database: true, broker: true } } });

    ready = false;
    try {
      expect(await api.get('/readyz')).toMatchObject({ status: 503, body: { status: 'not ready', checks: { database: false, broker: false } } });
    } finally {
      ready = true;
    }
  });

  test('When no route matches, then the answer is a 404 problem+json HTTP.NOT_FOUND naming the method and path', async () => {
    const res = await api.delete('/nowhere?x=1');

    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'https://banyan.dev/errors/HTTP.NOT_FOUND',
      title: 'Not Found',
      status: 404,
      code: 'HTTP.NOT_FOUND',
      detail: 'No route for DELETE /nowhere.',
      instance: '/nowhere?x=1',
    });
  });

  test('When the body is not valid JSON, then 400 HTTP.MALFORMED_JSON, and the route never runs', async () => {
    const res = await api.raw('POST', '/echo', '{"email": ');

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('HTTP.MALFORMED_JSON');
  });

  test('When the body is over 1 MiB, then 413 HTTP.PAYLOAD_TOO_LARGE; just under it, the route answers', async () => {
    const over = await api.raw('POST', '/echo', JSON.stringify({ email: 'a@b.co', quantity: 1, pad: 'x'.repeat(1024 * 1024) }));
    expect(over.status).toBe(413);
    expect(over.body).toMatchObject({ code: 'HTTP.PAYLOAD_TOO_LARGE', detail: 'The request body is larger than 1 MiB.' });

    const under = await api.raw('POST', '/echo', JSON.stringify({ email: 'a@b.co', quantity: 1, pad: 'x'.repeat(1024 * 1024 - 100) }));
    expect(under.status).toBe(201);
  });

  test('When the body fails its schema, then 400 VALIDATION.FAILED lists every problem by path; a valid body comes back parsed', async () => {
    const bad = await api.post('/echo', { email: 'not an email', quantity: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION.FAILED');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'quantity']);

    const notAnObject = await api.raw('POST', '/echo', '[1]');
    expect(notAnObject.body.errors).toEqual([{ path: '(body)', message: expect.any(String) }]);

    expect(await api.post('/echo', { email: 'a@b.co', quantity: 2, extra: true })).toMatchObject({ status: 201, body: { email: 'a@b.co', quantity: 2 } });
  });

  test('When a route throws an AppError with retryAfter, then its status and code are kept and Retry-After is set', async () => {
    const res = await api.get('/busy');

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('12');
    expect(res.body).toMatchObject({ code: 'SERVICE.UNAVAILABLE', detail: 'busy right now', retryAfter: 12 });
  });

  test('When a route throws anything but an AppError, then a generic 500 INTERNAL answers and the message does not leak', async () => {
    const res = await api.get('/bug');

    expect(res.status).toBe(500);
    expect(res.body.code).toBe('INTERNAL');
    expect(res.text).not.toContain('hunter2');
  });
});

describe('serve', () => {
  test('When a served app is closed with a request in flight, then that request is answered and new connections are refused', async () => {
    const app = createHttpApp({ logger });
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.json({ finished: true }), 300);
    });
    const own = await serve(finishHttpApp(app));
    const inFlight = http(own.url).get('/slow');
    await new Promise((r) => setTimeout(r, 50));

    const closed = own.close(5_000);

    expect(await inFlight).toMatchObject({ status: 200, body: { finished: true } });
    await closed;
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();
  });
});

describe('cursors', () => {
  const id = '0190a8f2-7c3e-7b4a-9c1d-2e3f4a5b6c7d';

  test('When a cursor made by encodeCursor comes back, then decodeCursor gives the same id; no cursor gives undefined', () => {
    expect(decodeCursor(encodeCursor(id))).toBe(id);
    expect(encodeCursor(id)).not.toContain(id);
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  test('When a cursor was tampered with, then it is a 400 VALIDATION.FAILED on cursor, never a 500', () => {
    for (const tampered of ['not-base64!', encodeCursor('42'), encodeCursor(`${id}' OR 1=1`), '']) {
      const error = (() => {
        try {
          decodeCursor(tampered);
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'VALIDATION.FAILED', status: 400, details: { errors: [{ path: 'cursor', message: 'not a cursor this API issued' }] } });
    }
  });
});
