import { compareTargets, gatewaySide, renderReport } from '@banyan/parity';
import { productScenarios } from '../../../migration/parity/products';
import { eventually } from '@banyan/testing';
import { ADMIN_TOKEN } from '../../../gateway/test/support/gateway';
import { startProductsSystem, type ProductsSystem } from './support/system';
import { shopParityAuth } from '../../../migration/parity/auth';

/**
 * The products contract scenarios, side against side through one real gateway, in every mode a
 * user can put products in, with both relays and both sync consumers running. Each side is forced
 * with `x-banyan-route` + `x-banyan-token` (as `banyan parity products` does), so the comparison is
 * of the two implementations while the rest of the system routes as the mode says.
 */
let system: ProductsSystem;
beforeAll(async () => {
  system = await startProductsSystem('pparity');
}, 30_000);
afterAll(() => system?.close());

const side = (s: 'monolith' | 'extracted') =>
  gatewaySide({ gatewayUrl: system.gateway.url, side: s, domain: 'products', prefixes: ['/api/products'], gatewayToken: ADMIN_TOKEN, auth: shopParityAuth, adminToken: system.adminToken });

describe('products parity through the gateway', () => {
  test('When the products scenarios run on the monolith side and on the service side, then they are identical in every routing mode (monolith, shadow, canary 50, extracted)', async () => {
    for (const [mode, percent] of [['monolith'], ['shadow'], ['canary', 50], ['extracted']] as const) {
      await system.gateway.route('products', mode, percent);
      // The monolith follows the gateway's table by its own poll: compare once it has.
      await eventually(async () => {
        await system.routing.refresh();
        expect(system.routing.get('products').mode).toBe(mode);
      }, { timeoutMs: 10_000 });
      const report = await compareTargets(productScenarios, side('monolith'), side('extracted'));

      if (!report.identical) console.log(`products routed ${mode}:\n${renderReport(report)}`);
      expect(report.scenarios.map((s) => [mode, s.scenario, s.failures, s.differences])).toEqual(productScenarios.map((s) => [mode, s.name, { a: [], b: [] }, []]));
      // Every step ran on both sides: a scenario stopped early would compare equal and prove nothing.
      for (const s of report.scenarios) expect([s.a.steps.length, s.b.steps.length]).toEqual(Array(2).fill(productScenarios.find((x) => x.name === s.scenario)!.steps.length));
    }
  }, 60_000);
});
