import { eventually, truthy } from '@banyan/testing';

describe('eventually', () => {
  test('When the probe gives an accepted value after a few tries, then that value is returned', async () => {
    let calls = 0;
    const value = await eventually(async () => ++calls, { until: (n) => n >= 3, timeoutMs: 2_000, intervalMs: 5 });
    expect(value).toBe(3);
    expect(calls).toBe(3);
  });

  test('When there is no until, then the first probe that returns without throwing is accepted, and its value returned', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls += 1;
        expect(calls).toBeGreaterThanOrEqual(2);
        return `call ${calls}`;
      },
      { timeoutMs: 2_000, intervalMs: 5 },
    );
    expect(value).toBe('call 2');
  });

  test('When the time is up with a value not accepted, then it throws naming what was waited for and the last value', async () => {
    const started = Date.now();
    await expect(eventually(async () => ({ sent: 1 }), { until: (v) => v.sent === 2, timeoutMs: 100, what: 'two mails sent', intervalMs: 10 })).rejects.toThrow(
      'eventually: two mails sent not met within 100 ms; last value: { sent: 1 }',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  test('When the time is up and the probe kept throwing, then it throws with the last error in its message and as its cause', async () => {
    let calls = 0;
    const failure = await eventually(
      () => {
        calls += 1;
        throw new Error(`not yet (${calls})`);
      },
      { timeoutMs: 50, intervalMs: 10 },
    ).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(`eventually: the condition not met within 50 ms; last error: not yet (${calls})`);
    expect(((failure as Error).cause as Error).message).toBe(`not yet (${calls})`);
  });

  test('When until is truthy, then false and undefined mean not yet and the value comes back narrowed', async () => {
    const answers: (number | false | undefined)[] = [undefined, false, 42];
    const pid: number = await eventually(() => answers.shift(), { until: truthy, timeoutMs: 1_000, intervalMs: 5 });
    expect(pid).toBe(42);
  });
});
