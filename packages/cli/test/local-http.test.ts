import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost, localOnly, truncateUtf8 } from '../src/dev/local-http';

/** What both catchers stand on: a handler that throws must cost one request, not the supervisor. */
describe("The catchers' request guard", () => {
  test('When a handler throws or rejects, then that request gets a 500, the failure is logged once, and the server keeps answering', async () => {
    const logged: string[] = [];
    const server = http.createServer(
      localOnly('test catcher', (l) => logged.push(l), async (req, res) => {
        if (req.url === '/throw') throw new Error('sync bug');
        if (req.url === '/reject') return Promise.reject(new Error('async bug'));
        await new Promise((r) => setImmediate(r));
        res.end('fine');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const statuses = [];
      for (const path of ['/throw', '/reject', '/']) statuses.push((await fetch(`${base}${path}`)).status);

      expect(statuses).toEqual([500, 500, 200]);
      expect(logged).toEqual(['GET "/throw" failed: sync bug', 'GET "/reject" failed: async bug']);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('When Host names loopback on any port it is served; any other name, a lookalike or none is not', () => {
    for (const host of ['127.0.0.1', '127.0.0.1:4318', 'localhost', 'LOCALHOST:8025', '[::1]', '[::1]:1']) expect([host, isLoopbackHost(host)]).toEqual([host, true]);
    for (const host of [undefined, '', 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:80', '127.0.0.2', '[::1]x', '0.0.0.0', '127.0.0.1:99999999']) {
      expect([host, isLoopbackHost(host)]).toEqual([host, false]);
    }
  });

  test('When a string is cut to a byte cap, then it fits with its ellipsis and no character is split', () => {
    expect(truncateUtf8('short', 256)).toBe('short');
    expect(truncateUtf8('x'.repeat(300), 10)).toBe('xxxxxxx…');
    expect(truncateUtf8('€€€€', 8)).toBe('€…');
    expect(truncateUtf8('😀😀😀', 9)).toBe('😀…');
    expect(Buffer.byteLength(truncateUtf8('é'.repeat(1_000_000), 256))).toBeLessThanOrEqual(256);
  });
});
