import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { compareTargets, renderReport, type ParityAuth, type Scenario, type Target } from '@banyan/parity';

/** This stub's own login and registration, unlike any real application's: the runner must use what it is told. */
const AUTH: ParityAuth = {
  login: { path: '/session', body: { login: '{{email}}', secret: '{{password}}' }, token: 'data.accessToken', id: 'data.userId' },
  register: { path: '/accounts', body: { login: '{{email}}', secret: '{{password}}', display: '{{name}}' } },
};

/**
 * Two tiny real HTTP servers speaking a slice of the products contract. Each makes its own ids
 * and timestamps, so "identical" below already depends on normalisation; `variant` plants a
 * difference where a test asks for one.
 */
type Variant = { renameField?: boolean; unknownStatus?: number; extraHeader?: boolean };

function productsServer(variant: Variant = {}) {
  const products = new Map<string, Record<string, unknown>>();
  const seen: Array<{ method: string; url: string; authorization?: string; route?: string }> = [];
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'x-banyan-served-by': variant.extraHeader ? 'b' : 'a', date: new Date().toUTCString(), ...headers });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, route: req.headers['x-banyan-route'] as string | undefined });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method === 'POST' && req.url === '/accounts') return send(res, JSON.parse(raw).display ? 201 : 400, { id: randomUUID() });
    if (req.method === 'POST' && req.url === '/session') return send(res, JSON.parse(raw).secret ? 200 : 401, { data: { accessToken: `eyJ0.eyJ${randomUUID()}.sig`, userId: randomUUID() } });
    if (req.method === 'POST' && req.url === '/api/products') {
      if (req.headers.authorization !== 'Bearer admin-token') return send(res, 403, { code: 'AUTH.FORBIDDEN' });
      const body = JSON.parse(raw);
      const product = { id: randomUUID(), ...body, createdAt: new Date().toISOString() };
      products.set(product.id as string, product);
      return send(res, 201, product, { location: `/api/products/${product.id}` });
    }
    const id = /^\/api\/products\/(.+)$/.exec(req.url!)?.[1];
    const product = id && products.get(id);
    if (!product) return send(res, variant.unknownStatus ?? 404, { code: 'PRODUCTS.NOT_FOUND' });
    const { name, ...rest } = product;
    return send(res, 200, variant.renameField ? { ...rest, title: name } : product);
  });
  return {
    seen,
    async start(name: string): Promise<Target> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { name, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth: AUTH, adminToken: 'admin-token', headers: { 'x-banyan-route': name } };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const scenario: Scenario = {
  domain: 'products',
  name: 'Create then read',
  steps: [
    { name: 'create', method: 'POST', path: '/api/products', as: 'admin', body: { sku: 'sku-{{run}}', name: 'Lamp' }, capture: { id: 'body.id' }, expect: { status: 201 } },
    { name: 'read', method: 'GET', path: '/api/products/{{id}}', as: 'customer', expect: { status: 200, equals: { 'body.id': '{{id}}' } } },
    { name: 'read unknown', method: 'GET', path: '/api/products/nope', expect: { status: 404 } },
  ],
};

const servers: Array<ReturnType<typeof productsServer>> = [];
async function targets(a: Variant, b: Variant) {
  const left = productsServer(a);
  const right = productsServer(b);
  servers.push(left, right);
  return { left, right, a: await left.start('A'), b: await right.start('B') };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('compareTargets', () => {
  it('reports no difference between two servers that differ only in ids, timestamps, tokens and their own headers', async () => {
    const { a, b, left } = await targets({}, { extraHeader: true });

    const report = await compareTargets([scenario], a, b);

    expect(report.scenarios[0].differences).toEqual([]);
    expect(report.scenarios[0].failures).toEqual({ a: [], b: [] });
    expect(report.identical).toBe(true);
    expect(report.scenarios[0].a.steps.map((s) => s.request)).toEqual(['POST /api/products', 'GET /api/products/<uuid:1>', 'GET /api/products/nope']);
    // The customer was registered and logged in, and every request carried the target's headers.
    expect(left.seen.map((r) => `${r.method} ${r.url}`).slice(0, 2)).toEqual(['POST /accounts', 'POST /session']);
    expect(left.seen.every((r) => r.route === 'A')).toBe(true);
    expect(renderReport(report)).toContain('1 scenarios, no differences.');
  });

  it('names the scenario, step and path of a planted body difference, and shows it side by side', async () => {
    const { a, b } = await targets({}, { renameField: true });

    const report = await compareTargets([scenario], a, b);

    expect(report.identical).toBe(false);
    expect(report.scenarios[0].differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ scenario: 'Create then read', step: 'read', index: 2, kind: 'body', path: 'body.name', a: 'Lamp', b: undefined }),
        expect.objectContaining({ scenario: 'Create then read', step: 'read', index: 2, kind: 'body', path: 'body.title', a: undefined, b: 'Lamp' }),
      ]),
    );
    expect(report.scenarios[0].differences.every((d) => d.step === 'read')).toBe(true);
    const text = renderReport(report);
    expect(text).toContain('✗ [products] Create then read');
    expect(text).toContain('step 2 "read"');
    expect(text).toMatch(/"name": "Lamp",\s+\|/);
    expect(text).toMatch(/\|\s+"title": "Lamp"/);
  });

  it('names a planted status difference, and the failed expectation on the side that broke the contract', async () => {
    const { a, b } = await targets({}, { unknownStatus: 400 });

    const report = await compareTargets([scenario], a, b);

    expect(report.scenarios[0].differences).toEqual([expect.objectContaining({ step: 'read unknown', index: 3, kind: 'status', path: 'status', a: 404, b: 400 })]);
    expect(report.scenarios[0].failures.a).toEqual([]);
    expect(report.scenarios[0].failures.b).toEqual([expect.stringContaining('step "read unknown": expected status 404, got 400')]);
    expect(renderReport(report)).toContain('status: A 404  B 400');
  });

  it('logs actors in only as the target declares: without auth a scenario with customers fails its setup, naming parity.auth', async () => {
    const { a, b } = await targets({}, {});
    const { auth: _declared, ...undeclared } = b;

    const report = await compareTargets([scenario], a, undeclared);

    expect(report.scenarios[0].failures.a).toEqual([]);
    expect(report.scenarios[0].failures.b).toEqual([`setup: cannot register customer "customer" on ${b.name}: no login is declared (the migration's parity.auth)`]);
  });

  it('reports an unreachable target as a failure and the steps it never ran as missing', async () => {
    const { a } = await targets({}, {});
    const down: Target = { name: 'down', baseUrl: 'http://127.0.0.1:1', auth: AUTH, adminToken: 'admin-token' };

    const report = await compareTargets([scenario], a, down);

    expect(report.identical).toBe(false);
    expect(report.scenarios[0].failures.b).toEqual([expect.stringMatching(/^setup: POST \/accounts on down failed/)]);
    expect(report.scenarios[0].differences.map((d) => d.kind)).toEqual(['missing-step', 'missing-step', 'missing-step']);
  });
});
