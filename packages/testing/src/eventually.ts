import { inspect } from 'node:util';

export interface EventuallyOptions<T> {
  /** How long to keep asking, in ms; every call site says its own, since what is waited for differs. */
  timeoutMs: number;
  /**
   * Whether a value is the one waited for. Without it, any value the probe returns without
   * throwing is accepted: a probe that asserts (`expect(…)`) waits until its assertions pass.
   */
  until?: (value: T) => boolean;
  /** What is waited for, in words, for the message when it never comes. */
  what?: string;
  /** The pause between probes: 50 ms, longer where a probe is costly (a child process, HTTP). */
  intervalMs?: number;
}

/**
 * Ask `probe` until it gives a value `until` accepts (or, without `until`, until it returns
 * without throwing), and return that value. A probe that throws counts as "not yet". When
 * `timeoutMs` passes first, throw, naming what was waited for and the last error or value seen:
 * a wait that ends in a failure says why, and a test never goes on with a value nobody accepted.
 */
export async function eventually<T, U extends T>(probe: () => Promise<T> | T, options: Omit<EventuallyOptions<T>, 'until'> & { until: (value: T) => value is U }): Promise<U>;
export async function eventually<T>(probe: () => Promise<T> | T, options: EventuallyOptions<T>): Promise<T>;
export async function eventually<T>(probe: () => Promise<T> | T, options: EventuallyOptions<T>): Promise<T> {
  const { timeoutMs, until, what = 'the condition', intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (!until || until(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) throw timedOut(what, timeoutMs, last);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A type guard for `until` where a probe answers `false` or `undefined` for "not yet". */
export const truthy = <T>(value: T): value is Exclude<T, false | 0 | '' | null | undefined> => Boolean(value);

function timedOut(what: string, timeoutMs: number, last: { value: unknown } | { error: unknown } | undefined): Error {
  const head = `eventually: ${what} not met within ${timeoutMs} ms`;
  if (!last) return new Error(head);
  if ('error' in last) {
    const message = last.error instanceof Error ? last.error.message : inspect(last.error);
    return new Error(`${head}; last error: ${message}`, { cause: last.error });
  }
  return new Error(`${head}; last value: ${inspect(last.value, { depth: 4, breakLength: Infinity, maxStringLength: 2000 })}`);
}
