import { compareTargets, gatewaySide, renderReport } from '@banyan/parity';
import { orderScenarios } from '../../../migration/parity/orders';
import { ADMIN_TOKEN } from '../../../gateway/test/support/gateway';
import { startSwitchSystem, type SwitchSystem } from './support/switch-system';
import { shopParityAuth } from '../../../migration/parity/auth';

/**
 * `banyan parity orders` in a test: the orders contract scenarios through one real gateway, on the
 * monolith's side and on the service's (forced with `x-banyan-route`, as the command does), with
 * products and payments on their services, in both orders routes.
 */
let sys: SwitchSystem;
beforeAll(async () => {
  sys = await startSwitchSystem('orders_parity');
}, 120_000);
afterAll(() => sys?.close());

test('When the orders scenarios run on the monolith side and on the service side, then they are identical whether orders is routed to the monolith or extracted', async () => {
  const admin = await sys.mono.admin();
  const side = (s: 'monolith' | 'extracted') =>
    gatewaySide({ gatewayUrl: sys.gateway.url, side: s, domain: 'orders', prefixes: ['/api/orders'], gatewayToken: ADMIN_TOKEN, auth: shopParityAuth, adminToken: admin.token });
  for (const mode of ['monolith', 'extracted'] as const) {
    await sys.gateway.route('orders', mode);
    const report = await compareTargets(orderScenarios, side('monolith'), side('extracted'));
    if (!report.identical) console.log(`orders routed ${mode}:\n${renderReport(report)}`);
    expect(report.scenarios.map((s) => [mode, s.scenario, s.failures, s.differences])).toEqual(orderScenarios.map((s) => [mode, s.name, { a: [], b: [] }, []]));
    // Every step ran on both sides: a scenario stopped early would compare equal and prove nothing.
    for (const s of report.scenarios) expect([s.a.steps.length, s.b.steps.length]).toEqual(Array(2).fill(orderScenarios.find((x) => x.name === s.scenario)!.steps.length));
  }
}, 90_000);
