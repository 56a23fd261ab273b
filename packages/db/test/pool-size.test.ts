import { createKnex, defaultPoolMax } from '@banyan/db';

const settings = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

describe('Pool size', () => {
  const saved = process.env.BANYAN_PG_POOL_MAX;
  afterEach(() => {
    if (saved === undefined) delete process.env.BANYAN_PG_POOL_MAX;
    else process.env.BANYAN_PG_POOL_MAX = saved;
  });

  test('BANYAN_PG_POOL_MAX sets the default size when it is a whole number from 1; anything else leaves 10', () => {
    expect(defaultPoolMax({ BANYAN_PG_POOL_MAX: '4' })).toBe(4);
    for (const value of [undefined, '', '0', '-2', '2.5', 'four']) expect(defaultPoolMax({ BANYAN_PG_POOL_MAX: value })).toBe(10);
  });

  test('When a pool names no size it takes the default, and one that names its size keeps it', async () => {
    process.env.BANYAN_PG_POOL_MAX = '3';
    const unsized = createKnex(settings);
    const sized = createKnex(settings, { max: 7 });
    try {
      expect(unsized.client.pool.max).toBe(3);
      expect(sized.client.pool.max).toBe(7);
    } finally {
      await Promise.all([unsized.destroy(), sized.destroy()]);
    }
  });
});
