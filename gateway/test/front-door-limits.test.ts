import net from 'node:net';
import { startGateway, sleep, type GatewayHarness } from './support/gateway';
import { dribble, exchange } from './support/socket';
import { echo, startStub, type Stub } from './support/stub';

/**
 * Deadlines and caps on the public port (docs/gateway.md#security): what a slow, stalled or
 * greedy client can hold, and that none of it reaches an upstream or its breaker.
 */
describe('The front door: deadlines and caps', () => {
  let monolith: Stub;
  let gw: GatewayHarness;
  let host: string;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    gw = await startGateway({
      label: 'gw_limits',
      monolith: monolith.url,
      env: {
        GATEWAY_HEADERS_TIMEOUT_MS: '1000',
        GATEWAY_BODY_TIMEOUT_MS: '1000',
        // Few upstream sockets and a short wait, so holding one would show at once.
        GATEWAY_MAX_SOCKETS: '8',
        GATEWAY_SOCKET_WAIT_MS: '400',
        GATEWAY_BREAKER_VOLUME: '5',
        GATEWAY_BREAKER_ERROR_PERCENT: '50',
        // Every test client is 127.0.0.1; the cap has its own gateway below.
        GATEWAY_MAX_CONNECTIONS_PER_CLIENT: '0',
      },
    });
    host = new URL(gw.url).host;
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
  });

  const breakerState = async () => /banyan_gateway_breaker_state\{[^}]*\} (\d)/.exec((await gw.adminApi.get('/metrics')).text)?.[1];

  test('When a client is still sending its headers after the deadline, then it gets 408 and the connection is closed', async () => {
    const slow = dribble(gw.url, `GET /api/products HTTP/1.1\r\nHost: ${host}\r\n`, 'X-Slow: ' + 'a'.repeat(100), 200);
    const { text, ms } = await slow.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    // The deadline, plus node:http's check interval (set to at most 1 s), plus scheduling room.
    expect(ms).toBeLessThan(3_500);
    expect(monolith.seen.filter((s) => s.url === '/api/products' && s.headers['x-slow'])).toHaveLength(0);
  });

  test('When a body drips one byte at a time past the body deadline, then it gets 408 problem+json and nothing reaches the upstream', async () => {
    const before = monolith.seen.length;
    const slow = dribble(gw.url, `POST /api/products HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`, '{' + ' '.repeat(98) + '}', 200);
    const { text, ms } = await slow.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/"code":"GATEWAY\.BODY_TIMEOUT"/);
    expect(ms).toBeLessThan(2_500);
    expect(monolith.seen.length).toBe(before);
  });

  test('When 300 slow-body connections are open, then an ordinary GET still answers within 1 s (no upstream socket is held by a body)', async () => {
    const slow = Array.from({ length: 300 }, () =>
      dribble(gw.url, `POST /api/orders HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1000\r\n\r\n`, 'x'.repeat(1000), 300),
    );
    try {
      await Promise.all(slow.map((s) => s.ready));
      await sleep(200);
      const started = Date.now();
      const res = await fetch(`${gw.url}/api/products/ordinary`);
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(monolith.seen.filter((s) => s.url === '/api/orders')).toHaveLength(0);
    } finally {
      for (const s of slow) s.close();
    }
  });

  test('When 20 POSTs stall mid-body and 20 more are aborted by their clients, then none reaches the upstream and the breaker stays closed', async () => {
    const before = monolith.seen.length;
    const stalled = Array.from({ length: 20 }, () =>
      exchange(gw.url, `POST /api/orders HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 50\r\n\r\n{"half":`, 3_000),
    );
    const aborted = Array.from({ length: 20 }, () => {
      const socket = net.connect(Number(new URL(gw.url).port), '127.0.0.1', () => {
        socket.write(`POST /api/orders HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 50\r\n\r\n{"half":`);
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('error', () => undefined);
      return new Promise((resolve) => socket.on('close', resolve));
    });
    const replies = await Promise.all(stalled);
    await Promise.all(aborted);
    expect(replies.map((r) => r.statuses[0])).toEqual(Array(20).fill(408));
    expect(monolith.seen.length).toBe(before);
    expect(await breakerState()).toBe('0');
    const res = await fetch(`${gw.url}/api/orders`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
  });

  test('When a body is over 1 MiB, declared or chunked, then it gets 413 and the upstream sees nothing', async () => {
    const before = monolith.seen.length;
    const declared = await exchange(gw.url, `POST /api/products HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${1024 * 1024 + 1}\r\n\r\n{`);
    expect(declared.statuses).toEqual([413]);
    expect(declared.text).toMatch(/"code":"GATEWAY\.BODY_TOO_LARGE"/);
    const big = 'x'.repeat(64 * 1024);
    const chunks = Array.from({ length: 17 }, () => `${big.length.toString(16)}\r\n${big}\r\n`).join('');
    const chunked = await exchange(gw.url, `POST /api/products HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
    expect(chunked.statuses).toEqual([413]);
    expect(monolith.seen.length).toBe(before);
    // Exactly 1 MiB is still taken.
    const res = await fetch(`${gw.url}/api/products`, { method: 'POST', body: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(200);
  });

  test('When the headers are larger than the cap, then it gets 431', async () => {
    const reply = await exchange(gw.url, `GET /api/products HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(reply.statuses).toEqual([431]);
    expect(reply.closed).toBe(true);
  });

  test('When every upstream socket stays busy past the wait, then the next request gets 503 with Retry-After, never reaches the upstream later, and the breaker stays closed', async () => {
    monolith.behave((req, res, body) => setTimeout(() => echo('monolith')(req, res, body), 1_500));
    try {
      const before = monolith.seen.length;
      const holding = Array.from({ length: 8 }, (_, i) => fetch(`${gw.url}/api/products/hold-${i}`));
      await sleep(100);
      const started = Date.now();
      const res = await fetch(`${gw.url}/api/products/waiting`);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { code: string }).code).toBe('GATEWAY.UPSTREAM_BUSY');
      expect(elapsed).toBeGreaterThanOrEqual(350);
      await Promise.all(holding);
      await sleep(300);
      // The eight held requests, and not the one answered 503.
      expect(monolith.seen.slice(before).map((s) => s.url).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `/api/products/hold-${i}`).sort());
      expect(await breakerState()).toBe('0');
    } finally {
      monolith.behave('ok');
    }
  });
});

describe('The front door: connections per client', () => {
  let monolith: Stub;
  let gw: GatewayHarness;

  beforeAll(async () => {
    monolith = await startStub('monolith');
    gw = await startGateway({ label: 'gw_conncap', monolith: monolith.url, env: { GATEWAY_MAX_CONNECTIONS_PER_CLIENT: '5' } });
  });
  afterAll(async () => {
    await gw.close();
    await monolith.close();
  });

  const open = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(Number(new URL(gw.url).port), '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
  const closedSoon = (s: net.Socket) =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 500);
      s.on('close', () => {
        clearTimeout(t);
        resolve(true);
      });
      s.on('error', () => undefined);
    });

  test('When one address holds the cap of open connections, then its next connection is closed unread until one of them closes', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, open));
    try {
      const sixth = await open();
      expect(await closedSoon(sixth)).toBe(true);
      held.pop()!.destroy();
      await sleep(100);
      const res = await exchange(gw.url, `GET /api/products HTTP/1.1\r\nHost: ${new URL(gw.url).host}\r\nConnection: close\r\n\r\n`);
      expect(res.statuses).toEqual([200]);
    } finally {
      for (const s of held) s.destroy();
    }
    const metrics = (await gw.adminApi.get('/metrics')).text;
    expect(metrics).toMatch(/banyan_gateway_rejected_requests_total\{status="connection-cap"\} [1-9]/);
  });
});
