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

/**
 * A stand-in for the gateway's admin API as ADR 0303's third amendment specifies it: `GET /routes`
 * held until the table's version passes `after` (up to `waitMs`), each route with `fenced`, and
 * `PUT /followers/:id` recording what a follower reports.
 */
function fakeGateway() {
  const state = { version: 1, mode: 'monolith', fenced: false, holds: 0, abandoned: 0 };
  const reports: Array<{ id: string; version: number; writingOld: string[] }> = [];
  const deleted: string[] = [];
  const waiting = new Set<() => void>();
  const table = () => ({ version: state.version, routes: [{ domain: 'products', mode: state.mode, percent: 0, version: state.version, fenced: state.fenced }] });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(table()));
    };
    if (req.method === 'GET' && url.pathname === '/routes') {
      const after = Number(url.searchParams.get('after') ?? -1);
      if (!url.searchParams.has('waitMs') || state.version > after) return send();
      state.holds++;
      const answer = () => {
        waiting.delete(answer);
        clearTimeout(timer);
        send();
      };
      const timer = setTimeout(answer, Number(url.searchParams.get('waitMs')));
      waiting.add(answer);
      res.on('close', () => {
        if (!res.writableEnded) state.abandoned++;
        waiting.delete(answer);
        clearTimeout(timer);
      });
      return;
    }
    const follower = /^\/followers\/(.+)$/.exec(url.pathname);
    if (follower && req.method === 'PUT') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        reports.push({ id: decodeURIComponent(follower[1]), ...JSON.parse(body) });
        res.statusCode = 204;
        res.end();
      });
      return;
    }
    if (follower && req.method === 'DELETE') {
      deleted.push(decodeURIComponent(follower[1]));
      res.statusCode = 204;
      return res.end();
    }
    res.statusCode = 404;
    res.end();
  });
  return {
    state,
    reports,
    deleted,
    /** The admin API's switch: a new version, fenced until `lift`. */
    switchTo(mode: string) {
      Object.assign(state, { mode, version: state.version + 1, fenced: true });
      for (const answer of [...waiting]) answer();
    },
    lift() {
      state.fenced = false;
    },
    async listen() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections(); // the clients' idle keep-alive sockets
      }),
  };
}

const until = async (what: () => boolean, ms = 2_000) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('watchRoutes as a routing follower (ADR 0303, third amendment)', () => {
  test('When the gateway holds reads until its table changes, then a switch is seen in milliseconds, not at the next poll', async () => {
    const gateway = fakeGateway();
    const url = await gateway.listen();
    // A poll interval far longer than the test: only the held read can bring the switch in time.
    const view = watchRoutes({ adminUrl: url, token: 't', intervalMs: 60_000, longPollMs: 5_000 });
    try {
      await view.refresh();
      await until(() => gateway.state.holds > 0);

      const switched = Date.now();
      gateway.switchTo('extracted');
      await until(() => view.isExtracted('products'));

      expect(Date.now() - switched).toBeLessThan(500);
      expect(view.get('products')).toMatchObject({ mode: 'extracted', version: 2, fenced: true });
    } finally {
      view.stop();
      await gateway.close();
    }
  });

  test('When a write to the old side is in flight at a switch, then the follower reports it until it is done, and a new write waits for the fence to come down and goes to the new side', async () => {
    const gateway = fakeGateway();
    const url = await gateway.listen();
    // A heartbeat far apart: the reports this test waits for must come from the switch and the write's end.
    const view = watchRoutes({ adminUrl: url, token: 't', intervalMs: 60_000, longPollMs: 2_000, followerId: 'monolith:test' });
    try {
      await view.refresh();
      const old = await view.beginWrite('products');
      expect(old.side).toBe('monolith');

      gateway.switchTo('extracted');
      await until(() => gateway.reports.some((r) => r.version === 2));
      // Seen at version 2 with the monolith write still open: the gateway's fence must wait.
      expect(gateway.reports.filter((r) => r.version === 2).every((r) => r.writingOld.includes('products'))).toBe(true);

      let next: { side: string } | undefined;
      const waiting = view.beginWrite('products').then((t) => (next = t));
      await new Promise((r) => setTimeout(r, 150));
      expect(next).toBeUndefined(); // held: the fence is up

      const reportsBefore = gateway.reports.length;
      old.done();
      // Reported at once (not at the next heartbeat): nothing in flight to the old side any more.
      await until(() => gateway.reports.slice(reportsBefore).some((r) => r.version === 2 && r.writingOld.length === 0), 90);

      gateway.lift();
      await waiting;
      expect(next!.side).toBe('extracted');
      expect(gateway.reports.every((r) => r.id === 'monolith:test')).toBe(true);
    } finally {
      view.stop();
      await until(() => gateway.deleted.includes('monolith:test'));
      await gateway.close();
    }
  });

  test('When the fence never comes down, then a write waits at most fenceWaitMs and then goes', async () => {
    const gateway = fakeGateway();
    const url = await gateway.listen();
    const view = watchRoutes({ adminUrl: url, token: 't', intervalMs: 100, longPollMs: 0, fenceWaitMs: 300 });
    try {
      gateway.switchTo('extracted');
      await view.refresh();
      const started = Date.now();
      const write = await view.beginWrite('products');
      expect(write.side).toBe('extracted');
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(2_000);
      write.done();
      // Nothing is reported without a follower id.
      expect(gateway.reports).toEqual([]);
    } finally {
      view.stop();
      await gateway.close();
    }
  });

  test('When the view is stopped, then its held read is abandoned and it reports nothing more', async () => {
    const gateway = fakeGateway();
    const url = await gateway.listen();
    const view = watchRoutes({ adminUrl: url, token: 't', intervalMs: 50, longPollMs: 10_000, followerId: 'f' });
    await view.refresh();
    await until(() => gateway.state.holds > 0);
    view.stop();
    const reports = gateway.reports.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(gateway.reports.length).toBe(reports);
    // The held read was dropped by the client, not answered.
    await until(() => gateway.state.abandoned === 1, 1_000);
    await gateway.close();
  });
});
