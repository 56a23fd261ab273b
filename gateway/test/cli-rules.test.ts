import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registerRoute } from '../../packages/cli/src/commands/route';
import { registerStatus } from '../../packages/cli/src/commands/status';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from './support/gateway';
import { startStub, type Stub } from './support/stub';

/** `banyan route <domain> --rule <name> <mode>` (ADR 0213), in-process, against a real gateway. */
async function banyan(args: string[], adminUrl: string) {
  const saved = { url: process.env.BANYAN_ADMIN_URL, token: process.env.BANYAN_ADMIN_TOKEN };
  process.env.BANYAN_ADMIN_URL = adminUrl;
  process.env.BANYAN_ADMIN_TOKEN = ADMIN_TOKEN;
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((m) => void out.push(String(m)));
  const error = jest.spyOn(console, 'error').mockImplementation((m) => void err.push(String(m)));
  process.exitCode = 0;
  try {
    const program = new Command('banyan').exitOverride().configureOutput({ writeErr: (s) => void err.push(s), writeOut: (s) => void out.push(s) });
    registerRoute(program);
    registerStatus(program);
    await program.parseAsync(args, { from: 'user' });
    return { out: out.join('\n'), err: err.join('\n'), code: process.exitCode };
  } finally {
    process.exitCode = 0;
    log.mockRestore();
    error.mockRestore();
    process.env.BANYAN_ADMIN_URL = saved.url;
    if (saved.token === undefined) delete process.env.BANYAN_ADMIN_TOKEN;
    else process.env.BANYAN_ADMIN_TOKEN = saved.token;
  }
}

describe('banyan route --rule', () => {
  let monolith: Stub;
  let service: Stub;
  let gw: GatewayHarness;
  let file: string;

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
    const moved = await banyan(['route', 'products', '--rule', 'get-one', 'extracted', '--migration', file], gw.adminUrl);
    expect(moved).toMatchObject({ code: 0, err: '' });
    expect(moved.out).toMatch(/^products GET \/api\/products\/:id \(get-one\): inherit \(monolith\) → extracted \(version \d+\)$/);
    expect((await gw.api.get('/api/products/1')).body.served).toBe('products-service');
    const status = await banyan(['status', '--migration', file], gw.adminUrl);
    expect(status.out).toMatch(new RegExp(`\\n  GET /api/products/:id \\(get-one\\) +extracted +${service.url} +\\d+ `));

    const back = await banyan(['route', 'products', '--rule', 'get-one', 'inherit', '--migration', file], gw.adminUrl);
    expect(back.out).toMatch(/: extracted → inherit \(monolith\) \(version \d+\)$/);
    expect((await gw.api.get('/api/products/1')).body.served).toBe('monolith');
  });

  test('When the rule is not declared, then the CLI refuses it naming the declared ones, and changes nothing', async () => {
    const versionBefore = gw.gateway.table().version;
    const res = await banyan(['route', 'products', '--rule', 'nope', 'extracted', '--migration', file], gw.adminUrl);

    expect(res.code).not.toBe(0);
    expect(res.err).toContain('Unknown route rule "nope" of domain products: it declares get-one');
    expect(gw.gateway.table().version).toBe(versionBefore);
  });
});
