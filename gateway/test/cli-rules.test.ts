import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { banyan } from './support/cli';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';


/** `banyan route <domain> --rule <name> <mode>` (ADR 0213), in-process, against a real gateway. */
describe('banyan route --rule', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;
  let file: string;
  const admin = () => ({ BANYAN_ADMIN_URL: gw.adminUrl, BANYAN_ADMIN_TOKEN: ADMIN_TOKEN });

  beforeAll(async () => {
    monolith = await startStub('monolith');
    service = await startStub('products-service');
    const declaration = {
      name: 'Shop with a rule',
      monolith: { url: monolith.url },
      domains: { products: { prefixes: ['/api/products'], service: { url: service.url }, routes: [{ name: 'get-one', method: 'GET' as const, path: '/api/products/:id' }] } },
    };
    file = path.join(mkdtempSync(path.join(tmpdir(), 'banyan-rules-')), 'banyan.migration.json');
    writeFileSync(file, JSON.stringify(declaration));
    gw = await startGateway({ label: 'gw_cli_rules', declaration });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([monolith, service].map((s) => s?.close()));
  });

  test('When a rule is switched and put back to inherit, then the CLI says from what to what, and the request follows', async () => {
    const moved = await banyan(['route', 'products', '--rule', 'get-one', 'extracted', '--migration', file], admin());
    expect(moved).toMatchObject({ code: 0, err: '' });
    expect(moved.out).toMatch(/^products GET \/api\/products\/:id \(get-one\): inherit \(monolith\) → extracted \(version \d+\)$/);
    expect((await gw.api.get('/api/products/1')).body.served).toBe('products-service');
    const status = await banyan(['status', '--migration', file], admin());
    expect(status.out).toMatch(new RegExp(`\\n  GET /api/products/:id \\(get-one\\) +extracted +${service.url} +\\d+ `));

    const back = await banyan(['route', 'products', '--rule', 'get-one', 'inherit', '--migration', file], admin());
    expect(back.out).toMatch(/: extracted → inherit \(monolith\) \(version \d+\)$/);
    expect((await gw.api.get('/api/products/1')).body.served).toBe('monolith');
  });

  test('When the rule is not declared, then the CLI refuses it naming the declared ones, and changes nothing', async () => {
    const versionBefore = gw.gateway.table().version;
    const res = await banyan(['route', 'products', '--rule', 'nope', 'extracted', '--migration', file], admin());

    expect(res.code).not.toBe(0);
    expect(res.err).toContain('Unknown route rule "nope" of domain products: it declares get-one');
    expect(gw.gateway.table().version).toBe(versionBefore);
  });
});
