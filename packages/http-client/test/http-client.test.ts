import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@banyan/errors';
import { createBreaker, jsonPoster, RemoteFailure } from '@banyan/http-client';
import { createLogger } from '@banyan/telemetry';

/**
 * The one way a Banyan process calls another, against a real HTTP server on port 0 whose
 * answer each test sets: what comes back as the service's answer, what counts as a failure,
 * and how the breaker opens, fails fast and closes again.
 */
const logger = createLogger('http-client-test', process.env.TEST_LOG_LEVEL ?? 'silent');

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let answer: Handler;
const received: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }> = [];
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  received.length = 0;
});

const reply = (status: number, body?: unknown, type = 'application/json'): Handler => (_req, _body, res) => {
  res.writeHead(status, body === undefined ? {} : { 'content-type': type }).end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
};
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err);

describe('jsonPoster', () => {
  test('When the service answers 2xx, then the JSON was POSTed to base + path with the bearer token asked for the call, and the parsed body comes back', async () => {
    answer = reply(201, { id: 'ch_1', status: 'captured' });
    const post = jsonPoster({ url: `${url}/`, timeoutMs: 1_000, token: async () => 'tok-1', fallbackCode: 'PAYMENTS.REFUSED' });

    const result = await post('/internal/charges', { orderId: 'o-1', amountCents: 500 });

    expect(result).toEqual({ id: 'ch_1', status: 'captured' });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/internal/charges', body: JSON.stringify({ orderId: 'o-1', amountCents: 500 }) });
    expect(received[0].headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer tok-1' });
  });

  test('When there is no token or the answer is empty, then no authorization is sent and undefined comes back', async () => {
    answer = reply(204);
    const post = jsonPoster({ url, timeoutMs: 1_000, fallbackCode: 'X' });

    expect(await post('/ping', {})).toBeUndefined();
    expect(received[0].headers.authorization).toBeUndefined();
  });

  test("When the service answers a 4xx problem, then it comes back as the service's AppError: same code, status, detail and extras", async () => {
    answer = reply(409, { type: 't', title: 'Conflict', status: 409, code: 'PRODUCTS.OUT_OF_STOCK', detail: 'Only 2 left.', instance: '/x', available: 2 }, 'application/problem+json');
    const post = jsonPoster({ url, timeoutMs: 1_000, fallbackCode: 'PRODUCTS.REFUSED' });

    const error = await failureOf(post('/reservations', {}));

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'PRODUCTS.OUT_OF_STOCK', status: 409, message: 'Only 2 left.', details: { available: 2 } });
  });

  test('When a 4xx carries no problem document, then the fallback code is used with the status kept', async () => {
    answer = reply(422, 'nope', 'text/plain');
    const post = jsonPoster({ url, timeoutMs: 1_000, fallbackCode: 'PAYMENTS.REFUSED' });

    expect(await failureOf(post('/charges', {}))).toMatchObject({ code: 'PAYMENTS.REFUSED', status: 422, message: 'The service refused the call.' });
  });

  test('When the service answers 5xx, 401 or 403, then it is a RemoteFailure (the call failed), not the customer’s error', async () => {
    const post = jsonPoster({ url, timeoutMs: 1_000, fallbackCode: 'X' });
    for (const status of [500, 503, 401, 403]) {
      answer = reply(status, { code: 'AUTH.UNAUTHORIZED' });
      const error = await failureOf(post('/charges', {}));
      expect(error).toBeInstanceOf(RemoteFailure);
      expect((error as Error).message).toContain(`POST /charges answered ${status}`);
    }
  });

  test('When the service does not answer within timeoutMs, then the call is given up with a RemoteFailure saying so', async () => {
    answer = (_req, _body, res) => setTimeout(() => res.end('{}'), 1_000);
    const post = jsonPoster({ url, timeoutMs: 100, fallbackCode: 'X' });
    const started = Date.now();

    const error = await failureOf(post('/slow', {}));

    expect(error).toBeInstanceOf(RemoteFailure);
    expect((error as Error).message).toBe('POST /slow: no answer within 100 ms');
    expect(Date.now() - started).toBeLessThan(900);
  });

  test('When nothing listens at the URL, then the refusal is a RemoteFailure', async () => {
    const post = jsonPoster({ url: 'http://127.0.0.1:1', timeoutMs: 1_000, fallbackCode: 'X' });

    expect(await failureOf(post('/charges', {}))).toBeInstanceOf(RemoteFailure);
  });
});

describe('createBreaker', () => {
  let names = 0;
  const breakerOver = (threshold: number, resetMs: number) => {
    const post = jsonPoster({ url, timeoutMs: 500, fallbackCode: 'X' });
    return createBreaker((path: string) => post(path, {}), { name: `breaker-${++names}`, threshold, resetMs, logger });
  };

  test('When threshold calls in a row fail, then it opens: the next call fails at once with SERVICE.UNAVAILABLE, circuit open and a Retry-After, and reaches nothing', async () => {
    answer = reply(500, {});
    const { fire, breaker } = breakerOver(3, 10_000);
    for (let i = 0; i < 3; i++) {
      expect(await failureOf(fire('/charges'))).toMatchObject({ code: 'SERVICE.UNAVAILABLE', status: 503, details: { circuit: 'closed', retryAfter: 5 } });
    }
    expect(breaker.opened).toBe(true);
    received.length = 0;

    const refused = await failureOf(fire('/charges'));

    expect(refused).toMatchObject({ code: 'SERVICE.UNAVAILABLE', status: 503, details: { circuit: 'open' } });
    expect((refused as AppError).details.retryAfter).toBeGreaterThanOrEqual(9);
    expect((refused as AppError).details.retryAfter).toBeLessThanOrEqual(10);
    expect(received).toHaveLength(0);
    breaker.shutdown();
  });

  test("When the service answers with its own AppError, then it passes through as is and counts as a success, so the breaker stays closed", async () => {
    const { fire, breaker } = breakerOver(2, 10_000);
    for (let i = 0; i < 3; i++) {
      answer = reply(500, {});
      await failureOf(fire('/charges'));
      answer = reply(404, { code: 'PAYMENTS.NOT_FOUND', detail: 'No such charge.' });
      expect(await failureOf(fire('/charges'))).toMatchObject({ code: 'PAYMENTS.NOT_FOUND', status: 404 });
    }

    expect(breaker.opened).toBe(false);
    breaker.shutdown();
  });

  test('When the calls time out, then they count as failures and open it', async () => {
    answer = (_req, _body, res) => setTimeout(() => res.end('{}'), 1_000);
    const { fire, breaker } = breakerOver(2, 10_000);

    await failureOf(fire('/slow'));
    await failureOf(fire('/slow'));

    expect(breaker.opened).toBe(true);
    breaker.shutdown();
  });

  test('When resetMs has passed, then one call is let through and its success closes the breaker; a failed probe opens it again', async () => {
    answer = reply(500, {});
    const { fire, breaker } = breakerOver(1, 200);
    await failureOf(fire('/charges'));
    expect(breaker.opened).toBe(true);

    await new Promise((r) => setTimeout(r, 300));
    expect(breaker.halfOpen).toBe(true);
    await failureOf(fire('/charges'));
    expect(breaker.opened).toBe(true);

    await new Promise((r) => setTimeout(r, 300));
    answer = reply(200, { ok: true });
    expect(await fire('/charges')).toEqual({ ok: true });
    expect(breaker.closed).toBe(true);
    breaker.shutdown();
  });
});
