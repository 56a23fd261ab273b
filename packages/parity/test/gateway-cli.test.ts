import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTargets, gatewaySide, type Scenario } from '@banyan/parity';
import { banyanParity as banyan } from './support/cli';

/**
 * A stand-in for the gateway's override rule (gateway/src/override.ts): it forces a side only
 * when x-banyan-token carries its admin token, and says in x-banyan-route which side answered.
 * Behind it, both "sides" answer identically unless `extractedDiffers` plants a difference.
 */
const GATEWAY_TOKEN = 'gateway-admin-token-for-tests';

function fakeGateway(options: { extractedDiffers?: boolean } = {}) {
  const seen: Array<{ url: string; route?: string; token?: string }> = [];
  const tokens = new Set<string>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    for await (const _ of req);
    seen.push({ url: req.url!, route: req.headers['x-banyan-route'] as string, token: req.headers['x-banyan-token'] as string });
    const trusted = req.headers['x-banyan-token'] === GATEWAY_TOKEN && ['monolith', 'extracted'].includes(req.headers['x-banyan-route'] as string);
    const side = trusted ? (req.headers['x-banyan-route'] as string) : 'monolith';
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'x-banyan-route': `${side}; mode=monolith${trusted ? '; override' : ''}` });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/api/users') return send(201, { id: randomUUID() });
    if (req.url === '/api/users/login') {
      const token = `eyJ0.eyJ${randomUUID()}.sig`;
      tokens.add(token);
      return send(200, { token, user: { id: randomUUID() } });
    }
    const url = new URL(req.url!, 'http://x');
    if (url.pathname !== '/api/notifications') return send(404, { code: 'HTTP.NOT_FOUND' });
    if (!tokens.has((req.headers.authorization ?? '').slice(7))) return send(401, { code: 'AUTH.UNAUTHORIZED' });
    if (url.searchParams.get('limit') === '0' || url.searchParams.has('cursor')) return send(400, { code: 'VALIDATION.FAILED' });
    return send(200, { items: [], nextCursor: side === 'extracted' && options.extractedDiffers ? 'MDE5' : null });
  });
  return {
    seen,
    url: async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const gateways: Array<ReturnType<typeof fakeGateway>> = [];
async function start(options?: { extractedDiffers?: boolean }) {
  const gateway = fakeGateway(options);
  gateways.push(gateway);
  return { gateway, url: await gateway.url() };
}

const saved = { token: process.env.BANYAN_ADMIN_TOKEN, password: process.env.BANYAN_ADMIN_PASSWORD };
afterEach(async () => {
  process.env.BANYAN_ADMIN_TOKEN = saved.token;
  if (saved.token === undefined) delete process.env.BANYAN_ADMIN_TOKEN;
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

const privacy = 'Notifications are private';

describe('banyan parity through the gateway', () => {
  it('forces only the domain under test to each side, and exits 0 when both sides agree', async () => {
    const { gateway, url } = await start();
    process.env.BANYAN_ADMIN_TOKEN = GATEWAY_TOKEN;

    const { exitCode, output } = await banyan('notifications', '--gateway', url, '--scenario', privacy);

    expect(output).toContain('1 scenarios, no differences.');
    expect(exitCode).toBe(0);
    const forced = gateway.seen.filter((r) => r.url.startsWith('/api/notifications'));
    expect(forced.map((r) => r.route).sort()).toEqual([...Array(5).fill('extracted'), ...Array(5).fill('monolith')]);
    expect(forced.every((r) => r.token === GATEWAY_TOKEN)).toBe(true);
    // Setup goes to the users domain, which must follow the routing table, not the override.
    expect(gateway.seen.filter((r) => r.url.startsWith('/api/users')).every((r) => r.route === undefined && r.token === undefined)).toBe(true);
  });

  it('exits 1 and names the path when the extracted side answers differently', async () => {
    const { url } = await start({ extractedDiffers: true });
    process.env.BANYAN_ADMIN_TOKEN = GATEWAY_TOKEN;

    const { exitCode, output } = await banyan('notifications', '--gateway', url, '--scenario', privacy);

    expect(exitCode).toBe(1);
    expect(output).toContain('✗ [notifications] Notifications are private');
    expect(output).toContain('body.nextCursor: A null  B "<cursor>"');
  });

  it('exits 1 instead of comparing the monolith with itself when the gateway ignores the override', async () => {
    const { url } = await start();
    process.env.BANYAN_ADMIN_TOKEN = 'not-the-gateway-token';

    const { exitCode, output } = await banyan('notifications', '--gateway', url, '--scenario', privacy);

    expect(exitCode).toBe(1);
    expect(output).toMatch(/B failed: step "no token": the gateway did not serve \/api\/notifications from the extracted side as asked \(x-banyan-route: monolith; mode=monolith\)/);
  });

  it('refuses to start without BANYAN_ADMIN_TOKEN, naming it', async () => {
    delete process.env.BANYAN_ADMIN_TOKEN;
    await expect(banyan('notifications', '--gateway', 'http://127.0.0.1:1', '--scenario', privacy)).rejects.toThrow(/BANYAN_ADMIN_TOKEN is not set/);
  });

  it("refuses admin steps in a project whose declaration says no admin account, naming parity.auth.admin", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'banyan-parity-'));
    const file = join(dir, 'banyan.migration.json');
    const step = { name: 'read', method: 'GET', path: '/api/books', as: 'admin' };
    writeFileSync(file, JSON.stringify({ name: 'Books', domains: { books: { prefixes: ['/api/books'], service: { url: 'http://127.0.0.1:1' }, parity: { scenarios: [{ name: 'as admin', steps: [step] }] } } } }));
    process.env.BANYAN_ADMIN_TOKEN = GATEWAY_TOKEN;
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { exitCode } = await banyan('books', '--migration', file, '--gateway', 'http://127.0.0.1:1');
      expect(exitCode).toBe(2);
      expect(errors.mock.calls.flat()).toEqual([`banyan: the books scenarios act as admin, but ${file} declares no parity.auth.admin (the account and the variable holding its password)`]);
    } finally {
      errors.mockRestore();
    }
  });
});

describe('eventually', () => {
  it('retries a step, settling the target between attempts, until its expectations hold; the last attempt is compared', async () => {
    let reads = 0;
    let settles = 0;
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/api/users')) {
        res.writeHead(req.url === '/api/users' ? 201 : 200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ token: 'eyJ0.eyJ1.s', user: { id: randomUUID() } }));
      }
      reads++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: settles >= 2 ? [{ status: 'sent' }] : [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const scenario: Scenario = {
      domain: 'notifications',
      name: 'eventually',
      steps: [{ name: 'wait', method: 'GET', path: '/api/notifications', as: 'customer', eventually: { timeoutMs: 2000, intervalMs: 10 }, expect: { length: { 'body.items': 1 } } }],
    };
    const auth = { login: { path: '/api/users/login', body: { email: '{{email}}', password: '{{password}}' }, token: 'token' }, register: { path: '/api/users', body: { email: '{{email}}' } } };
    const target = { name: 't', baseUrl, auth, settle: async () => settles++ };

    try {
      const report = await compareTargets([scenario], target, { ...target, settle: async () => settles++ });
      expect(report.identical).toBe(true);
      expect(report.scenarios[0].a.steps[0].body).toEqual({ items: [{ status: 'sent' }] });
      expect(reads).toBeGreaterThanOrEqual(3);

      // Targets without a settle hook wait on the system alone; this one never catches up.
      settles = 0;
      const impatient = await compareTargets([{ ...scenario, steps: [{ ...scenario.steps[0], eventually: { timeoutMs: 50, intervalMs: 10 } }] }], { name: 'never', baseUrl, auth }, { name: 'never', baseUrl, auth });
      expect(impatient.scenarios[0].failures.a).toEqual([expect.stringContaining('expected body.items to have 1 elements, got []')]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

it('gatewaySide leaves other domains alone and accepts only responses the override produced', () => {
  const side = gatewaySide({ gatewayUrl: 'http://gw', side: 'extracted', domain: 'products', prefixes: ['/api/products'], gatewayToken: 't' });
  expect(side.headersFor!('/api/products?limit=2')).toEqual({ 'x-banyan-route': 'extracted', 'x-banyan-token': 't' });
  expect(side.headersFor!('/api/productsx')).toEqual({});
  expect(side.headersFor!('/api/users')).toEqual({});
  expect(side.checkResponse!('/api/products/1', { 'x-banyan-route': 'extracted; mode=monolith; override' })).toBeUndefined();
  expect(side.checkResponse!('/api/products/1', { 'x-banyan-route': 'extracted; mode=extracted' })).toMatch(/did not serve/);
  expect(side.checkResponse!('/api/products/1', {})).toMatch(/x-banyan-route: absent/);
});

it("gatewaySide forces every prefix the domain declares, whole segments only", () => {
  const side = gatewaySide({ gatewayUrl: 'http://gw', side: 'monolith', domain: 'books', prefixes: ['/books', '/authors/holds'], gatewayToken: 't' });
  const forced = { 'x-banyan-route': 'monolith', 'x-banyan-token': 't' };
  expect(['/books', '/books/1', '/books?limit=2', '/authors/holds', '/authors/holds/9'].map((p) => side.headersFor!(p))).toEqual(Array(5).fill(forced));
  expect(['/booksx', '/authors', '/authors/holdsx', '/loans'].map((p) => side.headersFor!(p))).toEqual(Array(4).fill({}));
});
