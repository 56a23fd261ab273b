import { createLogger } from '@banyan/telemetry';
import { createWriteFence, type FenceOptions } from '../src/fence';
import { createMetrics } from '../src/metrics';
import type { RouteRow } from '../src/table';
import { sleep } from './support/gateway';

/**
 * The fence's phases on their own (ADR 0303): after the old side's writes answered and its outbox
 * drained, the fence asks whether the new side has applied them and comes down as soon as it
 * has; only when that cannot be read does it wait its settle period. The settle period here is a
 * minute, so a fence that came down in milliseconds did not wait for it.
 */
const row = (mode: RouteRow['mode']): RouteRow => ({ domain: 'products', mode, percent: 0, version: 1, updatedAt: new Date().toISOString(), updatedBy: 'test' });

function fenceWith(options: Partial<FenceOptions>) {
  return createWriteFence({
    settleMs: 60_000,
    maxMs: 120_000,
    pollMs: 10,
    drained: async () => true,
    metrics: createMetrics(),
    logger: createLogger('fence-test', 'silent'),
    ...options,
  });
}

/** Hold one write and resolve with how long it was held. */
function holdOne(fence: ReturnType<typeof createWriteFence>) {
  const started = Date.now();
  return new Promise<number>((resolve) => {
    if (!fence.hold('products', () => resolve(Date.now() - started))) resolve(0);
  });
}

describe('The write fence waits until the new side has applied the old side’s events', () => {
  test('When the new side has not applied them yet, then writes stay held; once it has, they go at once, without the settle period', async () => {
    let applied = false;
    const asked: Array<{ oldSides: string[]; newSide: string; sinceMs: number }> = [];
    const fence = fenceWith({
      applied: async (_domain, oldSides, newSide, sinceMs) => {
        asked.push({ oldSides, newSide, sinceMs });
        return applied;
      },
    });
    const switchedAt = Date.now();
    fence.switched('products', row('monolith'), row('extracted'));
    const held = holdOne(fence);
    await sleep(200);
    expect(fence.isFenced('products')).toBe(true);

    applied = true;
    const heldFor = await held;

    expect(heldFor).toBeGreaterThanOrEqual(195);
    expect(heldFor).toBeLessThan(2_000); // far below the minute of settle: the answer released it
    expect(fence.isFenced('products')).toBe(false);
    expect(asked.length).toBeGreaterThan(2);
    // The old side is the monolith, the new one the service; events published from maxMs before
    // the fence went up are asked about, so a consumer's backlog from before the switch counts.
    expect(asked[0]).toEqual({ oldSides: ['monolith'], newSide: 'extracted', sinceMs: expect.any(Number) });
    expect(switchedAt - asked[0].sinceMs).toBeGreaterThanOrEqual(120_000 - 5);
    fence.stop();
  });

  test('When whether the new side applied them cannot be read (no sync spec, no database), then the settle period stands in', async () => {
    const fence = fenceWith({ settleMs: 250, applied: async () => undefined });
    fence.switched('products', row('extracted'), row('monolith'));
    const heldFor = await holdOne(fence);
    expect(heldFor).toBeGreaterThanOrEqual(245);
    fence.stop();
  });

  test('When reading the new side fails, then the fence asks again and comes down once it answers', async () => {
    let failures = 3;
    const fence = fenceWith({
      applied: async () => {
        if (failures-- > 0) throw new Error('connection refused');
        return true;
      },
    });
    fence.switched('products', row('monolith'), row('extracted'));
    await holdOne(fence);
    expect(failures).toBe(-1);
    fence.stop();
  });

  test('When a second switch lands after the fence has heard from the other instances, then it asks them again about the newer version before coming down', async () => {
    const asked: number[] = [];
    let drained = false;
    const fence = fenceWith({
      others: async (_domain, version) => {
        asked.push(version);
        return true;
      },
      drained: async () => drained,
      applied: async () => true,
    });
    fence.switched('products', { ...row('monolith'), version: 1 }, { ...row('extracted'), version: 2 });
    const held = holdOne(fence);
    for (let i = 0; i < 100 && asked.length === 0; i++) await sleep(10);
    expect(asked).toEqual([2]); // heard from the others; now waiting for the outbox

    // Switched back before the fence came down: other instances may already be writing to the service.
    fence.switched('products', { ...row('extracted'), version: 2 }, { ...row('monolith'), version: 3 });
    drained = true;
    await held;
    expect(asked).toEqual([2, 3]);
    fence.stop();
  });

  test('When a domain is switched and switched back while its fence is up, then the side it returned to is not asked about as an old side', async () => {
    const asked: Array<{ oldSides: string[]; newSide: string }> = [];
    let drained = false;
    const fence = fenceWith({
      drained: async () => drained,
      applied: async (_domain, oldSides, newSide) => {
        asked.push({ oldSides, newSide });
        return true;
      },
    });
    fence.switched('products', row('monolith'), row('extracted'));
    fence.switched('products', row('extracted'), row('monolith'));
    drained = true;
    await holdOne(fence);
    expect(asked).toEqual([{ oldSides: ['extracted'], newSide: 'monolith' }]);
    fence.stop();
  });
});
