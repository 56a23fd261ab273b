import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { watchRoutes } from '@banyan/routing-client';

describe('watchRoutes', () => {
  let server: http.Server;
  let url: string;
  let mode = 'monolith';
  let up = true;
  const seenAuth: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seenAuth.push(req.headers.authorization ?? '');
      if (!up) {
        res.statusCode = 503;
        return res.end();
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ version: 1, routes: [{ domain: 'payments', mode, percent: 0, version: 1 }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('When the gateway switches a domain, then the view follows within the poll interval and tells listeners', async () => {
    const view = watchRoutes({ adminUrl: url, token: 'secret-token', intervalMs: 50 });
    const changes: string[] = [];
    view.onChange((next, prev) => changes.push(`${next.domain}:${prev.mode}->${next.mode}`));
    await view.refresh();
    expect(view.isExtracted('payments')).toBe(false);

    mode = 'extracted';
    // Polled every 50 ms: the view follows after a poll or two (allowing a loaded machine a second).
    const deadline = Date.now() + 1_000;
    while (!view.isExtracted('payments') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    expect(view.isExtracted('payments')).toBe(true);
    expect(changes).toEqual(['payments:monolith->extracted']);
    expect(seenAuth.every((h) => h === 'Bearer secret-token')).toBe(true);
    view.stop();
  });

  test('When the gateway is unreachable, then the last known table is kept', async () => {
    mode = 'extracted';
    const errors: Error[] = [];
    const view = watchRoutes({ adminUrl: url, token: 't', intervalMs: 30, onError: (e) => errors.push(e) });
    await view.refresh();
    up = false;
    await new Promise((r) => setTimeout(r, 150));
    expect(errors.length).toBeGreaterThan(0);
    expect(view.get('payments').mode).toBe('extracted');
    expect(view.get('unknown').mode).toBe('monolith');
    up = true;
    view.stop();
  });
});
