import { normaliseExchanges, type Exchange } from '@banyan/parity';

const ID_A = '0190f1c2-1111-7aaa-8bbb-000000000001';
const ID_B = '0190f1c2-2222-7aaa-8bbb-000000000002';
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

const exchange = (overrides: Partial<Exchange>): Exchange => ({
  step: 'step',
  method: 'GET',
  path: '/',
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: null,
  rules: {},
  ...overrides,
});

describe('normaliseExchanges', () => {
  it('numbers ids by first appearance across the whole scenario, so equal ids stay equal and different ids stay different', () => {
    const [created, read] = normaliseExchanges([
      exchange({ method: 'POST', path: '/api/products', status: 201, body: { id: ID_A, related: ID_B } }),
      exchange({ path: `/api/products/${ID_A.toUpperCase()}`, body: { id: ID_A, note: `see ${ID_B}` } }),
    ]);

    expect(created.body).toEqual({ id: '<uuid:1>', related: '<uuid:2>' });
    expect(read.request).toBe('GET /api/products/<uuid:1>');
    expect(read.body).toEqual({ id: '<uuid:1>', note: 'see <uuid:2>' });
  });

  it('numbers in sorted-key order, so two servers that serialise keys differently still agree', () => {
    const [one] = normaliseExchanges([exchange({ body: { b: ID_B, a: ID_A } })]);
    const [two] = normaliseExchanges([exchange({ body: { a: ID_B, b: ID_A } })]);

    expect(one.body).toEqual({ a: '<uuid:1>', b: '<uuid:2>' });
    expect(JSON.stringify(one.body)).toBe(JSON.stringify({ a: '<uuid:1>', b: '<uuid:2>' }));
    // Same positions, same placeholders: the raw ids differ but the structure is equal.
    expect(two.body).toEqual(one.body);
  });

  it('replaces ISO timestamps, JWTs, cursors and run values, wherever they sit in a string', () => {
    const [step] = normaliseExchanges(
      [
        exchange({
          path: '/api/things?limit=2&cursor=MDE5MGYxYzI',
          body: {
            createdAt: '2026-11-25T15:40:18.123Z',
            window: 'from 2026-11-25T15:40:18+01:00 on',
            token: JWT,
            auth: `Bearer ${JWT}`,
            nextCursor: 'MDE5MGYxYzItMTExMQ',
            email: 'parity-qwrtxyzk-ann@example.com',
            day: '2026-11-25',
          },
        }),
      ],
      { runValues: ['qwrtxyzk'] },
    );

    expect(step.request).toBe('GET /api/things?limit=2&cursor=<cursor>');
    expect(step.body).toEqual({
      auth: 'Bearer <jwt>',
      createdAt: '<time>',
      day: '2026-11-25',
      email: 'parity-<run>-ann@example.com',
      nextCursor: '<cursor>',
      token: '<jwt>',
      window: 'from <time> on',
    });
  });

  it('keeps a null cursor, because "last page" against "more pages" is a real difference', () => {
    const [step] = normaliseExchanges([exchange({ body: { items: [], nextCursor: null } })]);
    expect(step.body).toEqual({ items: [], nextCursor: null });
  });

  it('replaces ignored paths (with wildcards) by a marker, but leaves a missing field missing', () => {
    const [present, absent] = normaliseExchanges([
      exchange({ body: { items: [{ n: 1, at: 'x' }, { n: 2, at: 'y' }], version: 3 }, rules: { ignore: ['body.items[*].at', 'body.version'] } }),
      exchange({ body: { items: [{ n: 1 }] }, rules: { ignore: ['body.items[*].at', 'body.version'] } }),
    ]);

    expect(present.body).toEqual({ items: [{ at: '<ignored>', n: 1 }, { at: '<ignored>', n: 2 }], version: '<ignored>' });
    expect(absent.body).toEqual({ items: [{ n: 1 }] });
  });

  it('sorts order-insensitive arrays by content before numbering ids, so the same set in another order compares equal', () => {
    const rules = { unordered: ['body.items'] };
    const [one] = normaliseExchanges([exchange({ body: { items: [{ id: ID_A, sku: 'b' }, { id: ID_B, sku: 'a' }] }, rules })]);
    const [two] = normaliseExchanges([exchange({ body: { items: [{ id: ID_B, sku: 'a' }, { id: ID_A, sku: 'b' }] }, rules })]);
    const [unsorted] = normaliseExchanges([exchange({ body: { items: [{ id: ID_A, sku: 'b' }, { id: ID_B, sku: 'a' }] } })]);

    expect(one.body).toEqual({ items: [{ id: '<uuid:1>', sku: 'a' }, { id: '<uuid:2>', sku: 'b' }] });
    expect(two.body).toEqual(one.body);
    expect(unsorted.body).toEqual({ items: [{ id: '<uuid:1>', sku: 'b' }, { id: '<uuid:2>', sku: 'a' }] });
  });

  it('compares shared data by shape only where asked, keeping lengths and nulls', () => {
    const [step] = normaliseExchanges([
      exchange({ body: { items: [{ id: ID_A, stock: 3, tags: ['x'], gone: null }], nextCursor: null }, rules: { shape: ['body.items'] } }),
    ]);
    expect(step.body).toEqual({ items: [{ gone: null, id: '<string>', stock: '<number>', tags: ['<string>'] }], nextCursor: null });
  });

  it('compares only allowlisted headers, never the gateway’s x-banyan-* ones, with content-type spelled one way', () => {
    const [step] = normaliseExchanges([
      exchange({
        headers: {
          'content-type': 'application/problem+json;charset=UTF-8',
          location: `/api/products/${ID_A}`,
          date: 'Wed, 25 Nov 2026 15:40:18 GMT',
          'x-request-id': 'abc',
          'x-banyan-route': 'extracted',
          'retry-after': '5',
        },
        rules: { headers: ['retry-after', 'x-banyan-route'] },
      }),
    ]);
    expect(step.headers).toEqual({ 'content-type': 'application/problem+json; charset=utf-8', location: '/api/products/<uuid:1>', 'retry-after': '5' });
  });

  it('masks per-run text the built-in rules cannot see, by pattern', () => {
    const [step] = normaliseExchanges([exchange({ body: { subject: 'Order confirmed: #A1B2C3D4' }, rules: { mask: [{ pattern: '#[0-9A-F]{8}\\b', as: '#<ref>' }] } })]);
    expect(step.body).toEqual({ subject: 'Order confirmed: #<ref>' });
  });
});
