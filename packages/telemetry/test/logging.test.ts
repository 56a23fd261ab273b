import { Writable } from 'node:stream';
import { createLogger } from '../src';

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { output: () => chunks.join(''), logger: createLogger('redaction-test', 'debug', stream) };
}

test('secrets never reach the log output: authorization headers, passwords, tokens and cards, top level or one object down', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJl';
  const { logger, output } = capture();

  logger.info({ req: { method: 'GET', headers: { authorization: `Bearer ${jwt}`, cookie: 'sid=abc123cookie' } } }, 'request');
  logger.info({ headers: { authorization: 'Bearer admin-token-0123456789abcdef' } }, 'admin call');
  logger.info({ upstream: { headers: { authorization: 'Bearer upstream-secret-token' } } }, 'proxied');
  logger.info({ password: 'hunter2-password', token: jwt }, 'top level');
  logger.info({ body: { email: 'a@b.c', password: 'body-password-1' }, user: { token: 'user-token-xyz' } }, 'nested');
  logger.warn({ order: { card: { number: '4242424242424242' } }, card: { number: '4000000000000002' } }, 'cards');

  const text = output();
  for (const secret of [jwt, 'abc123cookie', 'admin-token-0123456789abcdef', 'upstream-secret-token', 'hunter2-password', 'body-password-1', 'user-token-xyz', '4242424242424242', '4000000000000002']) {
    expect(text).not.toContain(secret);
  }
  // Redacted, not dropped: the reader sees that a value was there.
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(6);
  expect(lines[0].req.headers.authorization).toBe('[redacted]');
  expect(lines[4].body).toEqual({ email: 'a@b.c', password: '[redacted]' });
});

test('outside any span a log line has no trace ids rather than empty ones', () => {
  const { logger, output } = capture();
  logger.info('no span here');
  const line = JSON.parse(output());
  expect(line).toMatchObject({ service: 'redaction-test', msg: 'no span here' });
  expect(line).not.toHaveProperty('trace_id');
});
