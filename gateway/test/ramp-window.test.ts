import { baseFor } from '../src/ramp/driver';
import { NOTHING, snapshotToJson, sumSnapshots, type SnapshotJson } from '../src/ramp/gates';

/**
 * Where an instance's window of a ramp step starts (ADR 0214, amended): an instance that does not
 * drive reports once a tick, so without a better base its window would start up to a tick after
 * the route change, and the first failures of a broken service would count in no step.
 */
const counted = (requests: number): SnapshotJson =>
  snapshotToJson({ sides: { monolith: { requests, failures: 0, buckets: new Map([[Infinity, requests]]) }, extracted: { requests: 0, failures: 0, buckets: new Map() } }, shadow: { match: 0, mismatch: 0, error: 0 } });

const STEP_AT = '2026-12-07T12:00:10.000Z';
const at = (iso: string) => Date.parse(iso);

describe("a ramp step's window on one instance", () => {
  test('When the instance saw its table change for the step after its last report, then that moment is the base', () => {
    const atChange = { at: at('2026-12-07T12:00:10.020Z'), counters: counted(500) };
    const base = baseFor(2, STEP_AT, { previous: { stepIndex: 1, at: at('2026-12-07T12:00:09.600Z') }, atChange, processStartedAt: at('2026-12-07T11:00:00Z') });
    expect(base).toBe(atChange.counters);
  });

  test("When the instance's last table change is older than the step (another route change of the same key), then it is not taken for this step's", () => {
    const stale = { at: at('2026-12-07T11:30:00Z'), counters: counted(1) };
    expect(baseFor(0, STEP_AT, { atChange: stale, processStartedAt: at('2026-12-07T11:00:00Z') })).toBeUndefined();
    // …nor a change this instance had already reported after.
    const before = { at: at('2026-12-07T12:00:10.100Z'), counters: counted(2) };
    expect(baseFor(3, STEP_AT, { previous: { stepIndex: 2, at: at('2026-12-07T12:00:10.500Z') }, atChange: before, processStartedAt: 0 })).toBeUndefined();
  });

  test('When the process started after the step did, then its base is nothing: all it counted is the step', () => {
    const base = baseFor(1, STEP_AT, { processStartedAt: at('2026-12-07T12:00:20Z') });
    expect(base).toBe(NOTHING);
    expect(sumSnapshots([base!]).sides.extracted).toEqual({ requests: 0, failures: 0, buckets: new Map() });
  });

  test('When the instance already reported this step, then its base stays what the first report set', () => {
    const atChange = { at: at('2026-12-07T12:00:10.020Z'), counters: counted(500) };
    expect(baseFor(2, STEP_AT, { previous: { stepIndex: 2, at: at('2026-12-07T12:00:11Z') }, atChange, processStartedAt: 0 })).toBeUndefined();
  });

  test("A clock a little behind the database's still takes the change that started the step", () => {
    const atChange = { at: at('2026-12-07T12:00:09.400Z'), counters: counted(7) };
    expect(baseFor(0, STEP_AT, { atChange, processStartedAt: 0 })).toBe(atChange.counters);
  });
});
