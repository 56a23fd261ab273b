import { compareTargets, renderReport, type Target } from '@banyan/parity';
// The monolith's own harness: a real monolith on a real port with its own database. Reused,
// not copied, so "two monoliths" here means exactly what the monolith's tests mean by one.
import { startMonolith, type MonolithHarness } from '../../monolith/test/support/harness';
import { banyanParity } from '../../packages/parity/test/support/cli';
import { notificationScenarios } from '../parity/notifications';
import { orderScenarios } from '../parity/orders';
import { paymentScenarios } from '../parity/payments';
import { productScenarios } from '../parity/products';
import { userScenarios } from '../parity/users';
import { shopParityAuth } from '../parity/auth';

/**
 * The shop's scenarios (migration/parity/) themselves under test: the same code on two independent databases must compare
 * identical. If this fails, a scenario (or a normalisation rule) lets run-specific data through,
 * and `banyan parity` would report a difference between monolith and service that is not one.
 */
let a: MonolithHarness;
let b: MonolithHarness;

beforeAll(async () => {
  [a, b] = await Promise.all([startMonolith('parity_a'), startMonolith('parity_b')]);
}, 60_000);

// Closing takes up to 30 s once mail was sent: the monolith's pooled SMTP connection stays open
// after stop(), and the test SMTP server waits its closeTimeout for it (reported to the monolith's owner).
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
}, 45_000);

async function target(name: string, h: MonolithHarness): Promise<Target> {
  // No broker here: the harness delivers outbox events when an eventually-consistent step retries.
  return { name, baseUrl: h.served.url, auth: shopParityAuth, adminToken: (await h.admin()).token, settle: () => h.deliverEvents() };
}

it.each([
  ['products', productScenarios],
  ['payments', paymentScenarios],
  ['notifications', notificationScenarios],
  ['users', userScenarios],
  ['orders', orderScenarios],
])('The %s scenarios find no difference between two independent monoliths', async (_domain, scenarios) => {
  const report = await compareTargets(scenarios, await target('monolith A', a), await target('monolith B', b));

  if (!report.identical) console.log(renderReport(report));
  expect(report.scenarios.map((s) => [s.scenario, s.failures, s.differences])).toEqual(scenarios.map((s) => [s.name, { a: [], b: [] }, []]));
  // Every step ran on both sides: a scenario that stopped early would compare equal and prove nothing.
  for (const s of report.scenarios) expect([s.a.steps.length, s.b.steps.length]).toEqual([scenarios.find((x) => x.name === s.scenario)!.steps.length, s.a.steps.length]);
}, 60_000);

it('banyan parity products --a --b prints the comparison and exits 0 for two identical monoliths', async () => {
  await Promise.all([a.admin(), b.admin()]);
  // The password the harness gives admin@banyan.local; the CLI logs in with it like an operator would.
  const saved = process.env.BANYAN_ADMIN_PASSWORD;
  process.env.BANYAN_ADMIN_PASSWORD = 'admin password for tests';
  try {
    const { exitCode, output } = await banyanParity('products', '--a', a.served.url, '--b', b.served.url);
    expect(output).toContain(`parity: A = ${a.served.url}   B = ${b.served.url}`);
    expect(output).toContain('✓ [products] The catalog is paged by limit and an opaque cursor');
    expect(output).toContain(`${productScenarios.length} scenarios, no differences.`);
    expect(exitCode).toBe(0);
  } finally {
    if (saved === undefined) delete process.env.BANYAN_ADMIN_PASSWORD;
    else process.env.BANYAN_ADMIN_PASSWORD = saved;
  }
}, 60_000);
