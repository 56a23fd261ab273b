import { retryingConcurrentInserts } from '../src/engine';

/**
 * The backfill's answer to a race it cannot provoke on demand: a batch that collides on a unique
 * index other than its key with a row the sync consumer inserted in the same instant (SQLSTATE
 * 23505) runs again, and then sees that row as a key conflict. Here the failures are injected.
 */
const uniqueViolation = () => Object.assign(new Error('duplicate key value violates unique constraint "products_sku_unique"'), { code: '23505' });

test('A batch that failed on a unique violation runs again, and its second result is returned', async () => {
  let calls = 0;
  const result = await retryingConcurrentInserts(async () => {
    calls++;
    if (calls === 1) throw uniqueViolation();
    return 42;
  });
  expect({ result, calls }).toEqual({ result: 42, calls: 2 });
});

test('A unique violation that stays is thrown after the third attempt', async () => {
  let calls = 0;
  const work = retryingConcurrentInserts(async () => {
    calls++;
    throw uniqueViolation();
  });
  await expect(work).rejects.toMatchObject({ code: '23505' });
  expect(calls).toBe(3);
});

test('A batch PostgreSQL aborted to break a deadlock runs again', async () => {
  let calls = 0;
  const result = await retryingConcurrentInserts(async () => {
    calls++;
    if (calls === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    return 'written';
  });
  expect({ result, calls }).toEqual({ result: 'written', calls: 2 });
});

test('Any other error is thrown at once, without a retry', async () => {
  let calls = 0;
  const work = retryingConcurrentInserts(async () => {
    calls++;
    throw Object.assign(new Error('connection terminated'), { code: '57P01' });
  });
  await expect(work).rejects.toThrow('connection terminated');
  expect(calls).toBe(1);
});
