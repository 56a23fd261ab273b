import { randomUUID } from 'node:crypto';
import { startMonolith, type MonolithHarness } from './support/harness';

let h: MonolithHarness;
let adminToken: string;
let customerToken: string;
let skuCounter = 0;

beforeAll(async () => {
  h = await startMonolith('products');
  adminToken = (await h.admin()).token;
  customerToken = (await h.signUp()).token;
});
afterAll(() => h.close());

const newProduct = (overrides: Record<string, unknown> = {}) => ({
  sku: `SKU-${++skuCounter}-${randomUUID().slice(0, 8)}`,
  name: 'Ceramic Mug',
  description: 'Stoneware, 350 ml.',
  priceCents: 1290,
  stock: 10,
  ...overrides,
});

async function createProduct(overrides: Record<string, unknown> = {}) {
  const res = await h.api.post('/api/products', newProduct(overrides), adminToken);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.body;
}

const eventsFor = async (type: string, productId: string) => (await h.events(type)).filter((e) => e.subject === productId);

describe('POST /api/products', () => {
  test('When an admin creates a product, then it is returned with a uuid v7 id and product.created carries the snapshot', async () => {
    const input = newProduct({ name: 'Çay bardağı 🍵 日本茶', description: 'Ünïcödé ✓' });
    const res = await h.api.post('/api/products', input, adminToken);

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{14}7/), ...input });
    const fetched = await h.api.get(`/api/products/${res.body.id}`);
    expect(fetched.body.name).toBe('Çay bardağı 🍵 日本茶');
    const [event] = await eventsFor('product.created', res.body.id);
    expect(event.data).toEqual({ productId: res.body.id, sku: input.sku, name: input.name, description: input.description, priceCents: 1290, stock: 10 });
  });

  test('When description and stock are omitted, then they default to empty and zero', async () => {
    const { description: _description, stock: _stock, ...rest } = newProduct();
    const res = await h.api.post('/api/products', rest, adminToken);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ description: '', stock: 0 });
  });

  test('When the SKU already exists, then 409 PRODUCTS.SKU_TAKEN and no second product.created', async () => {
    const first = await createProduct();
    const res = await h.api.post('/api/products', newProduct({ sku: first.sku }), adminToken);

    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('PRODUCTS.SKU_TAKEN');
    const created = (await h.events('product.created')).filter((e) => e.data.sku === first.sku);
    expect(created).toHaveLength(1);
  });

  test('When there is no token, then 401; when a customer tries, then 403', async () => {
    expect((await h.api.post('/api/products', newProduct())).body.code).toBe('AUTH.UNAUTHORIZED');
    const res = await h.api.post('/api/products', newProduct(), customerToken);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('AUTH.FORBIDDEN');
  });

  test.each([
    ['a missing name', { name: undefined }],
    ['a missing sku', { sku: undefined }],
    ['a missing price', { priceCents: undefined }],
    ['a price given as a string', { priceCents: '12.90' }],
    ['a fractional price', { priceCents: 12.5 }],
    ['a negative price', { priceCents: -1 }],
    ['a huge price', { priceCents: 1e15 }],
    ['a negative stock', { stock: -1 }],
    ['a huge stock', { stock: 1e12 }],
    ['an empty name', { name: '   ' }],
    ['a NUL byte in the name', { name: 'mug\u0000' }],
    ['a SKU with spaces', { sku: 'has spaces' }],
    ['an unknown field', { colour: 'red' }],
  ])('When the body has %s, then 400 VALIDATION.FAILED and nothing is created', async (_case, override) => {
    const before = (await h.events('product.created')).length;
    const res = await h.api.post('/api/products', newProduct(override), adminToken);

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION.FAILED');
    expect(res.body.errors.length).toBeGreaterThan(0);
    expect(await h.events('product.created')).toHaveLength(before);
  });
});

describe('GET /api/products', () => {
  test('When paging with a limit, then every product appears once, ordered by id, and the last page has nextCursor null', async () => {
    for (let i = 0; i < 5; i++) await createProduct();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await h.api.get(`/api/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((p: { id: string }) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);

    expect(cursor).toBeNull();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    const all = await h.api.get('/api/products?limit=100');
    expect(seen).toEqual(all.body.items.map((p: { id: string }) => p.id));
  });

  test('When no limit is given, then at most 20 items come back, without a token', async () => {
    while ((await h.api.get('/api/products?limit=100')).body.items.length < 21) await createProduct();
    const res = await h.api.get('/api/products');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(20);
    expect(typeof res.body.nextCursor).toBe('string');
  });

  test.each(['limit=0', 'limit=101', 'limit=abc', 'limit=2.5', 'cursor=not-a-cursor', `cursor=${Buffer.from("' OR 1=1 --").toString('base64url')}`])(
    'When the query has %s, then 400 VALIDATION.FAILED',
    async (query) => {
      const res = await h.api.get(`/api/products?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION.FAILED');
    },
  );
});

describe('GET /api/products/:id', () => {
  test('When the product exists, then it is returned in the contract shape', async () => {
    const product = await createProduct();
    const res = await h.api.get(`/api/products/${product.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(product);
  });

  test.each([randomUUID(), 'not-a-uuid', '12345', "1' OR '1'='1"])('When the id is %s, then 404 PRODUCTS.NOT_FOUND', async (id) => {
    const res = await h.api.get(`/api/products/${encodeURIComponent(id)}`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('PRODUCTS.NOT_FOUND');
  });
});

describe('PATCH /api/products/:id', () => {
  test('When an admin changes name and price, then the product changes and product.updated carries the full snapshot', async () => {
    const product = await createProduct();
    const res = await h.api.patch(`/api/products/${product.id}`, { name: 'Mug, large', priceCents: 1590 }, adminToken);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...product, name: 'Mug, large', priceCents: 1590 });
    const [event] = await eventsFor('product.updated', product.id);
    expect(event.data).toEqual({ productId: product.id, sku: product.sku, name: 'Mug, large', description: product.description, priceCents: 1590, stock: product.stock });
  });

  test('When the new SKU belongs to another product, then 409 PRODUCTS.SKU_TAKEN and no product.updated', async () => {
    const [a, b] = [await createProduct(), await createProduct()];
    const res = await h.api.patch(`/api/products/${b.id}`, { sku: a.sku }, adminToken);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('PRODUCTS.SKU_TAKEN');
    expect(await eventsFor('product.updated', b.id)).toHaveLength(0);
  });

  test.each([
    ['is empty', {}],
    ['sets stock (stock changes go through /stock)', { stock: 99 }],
    ['has a negative price', { priceCents: -5 }],
  ])('When the body %s, then 400 VALIDATION.FAILED', async (_case, body) => {
    const product = await createProduct();
    const res = await h.api.patch(`/api/products/${product.id}`, body, adminToken);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION.FAILED');
  });

  test('When the product does not exist, then 404; when a customer tries, then 403', async () => {
    expect((await h.api.patch(`/api/products/${randomUUID()}`, { name: 'x' }, adminToken)).body.code).toBe('PRODUCTS.NOT_FOUND');
    expect((await h.api.patch('/api/products/nope', { name: 'x' }, adminToken)).status).toBe(404);
    const product = await createProduct();
    expect((await h.api.patch(`/api/products/${product.id}`, { name: 'x' }, customerToken)).status).toBe(403);
    expect((await h.api.patch(`/api/products/${product.id}`, { name: 'x' })).status).toBe(401);
  });
});

describe('POST /api/products/:id/stock', () => {
  test('When an admin adds and removes stock, then stock follows and product.stock_changed says "adjustment"', async () => {
    const product = await createProduct({ stock: 10 });
    expect((await h.api.post(`/api/products/${product.id}/stock`, { delta: 5 }, adminToken)).body.stock).toBe(15);
    const res = await h.api.post(`/api/products/${product.id}/stock`, { delta: -15 }, adminToken);

    expect(res.status).toBe(200);
    expect(res.body.stock).toBe(0);
    const events = await eventsFor('product.stock_changed', product.id);
    // Each carries the whole product at its sequence (ADR 0301's amendment), not the stock alone.
    const whole = { productId: product.id, sku: product.sku, name: product.name, description: product.description, priceCents: product.priceCents };
    expect(events.map((e) => e.data)).toEqual([
      { ...whole, delta: 5, stock: 15, reason: 'adjustment' },
      { ...whole, delta: -15, stock: 0, reason: 'adjustment' },
    ]);
  });

  test('When the delta would take stock below zero, then 409 PRODUCTS.INSUFFICIENT_STOCK, stock unchanged, no event', async () => {
    const product = await createProduct({ stock: 3 });
    const res = await h.api.post(`/api/products/${product.id}/stock`, { delta: -4 }, adminToken);

    expect(res.status).toBe(409);
    expect(res.body.code).toBe('PRODUCTS.INSUFFICIENT_STOCK');
    expect((await h.api.get(`/api/products/${product.id}`)).body.stock).toBe(3);
    expect(await eventsFor('product.stock_changed', product.id)).toHaveLength(0);
  });

  test.each([
    ['zero', { delta: 0 }],
    ['fractional', { delta: 1.5 }],
    ['a string', { delta: '5' }],
    ['huge', { delta: 1e12 }],
    ['missing', {}],
  ])('When the delta is %s, then 400 VALIDATION.FAILED', async (_case, body) => {
    const product = await createProduct();
    const res = await h.api.post(`/api/products/${product.id}/stock`, body, adminToken);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION.FAILED');
  });

  test('When stock would exceed the ceiling, then 400 and stock unchanged', async () => {
    const product = await createProduct({ stock: 1_000_000_000 });
    const res = await h.api.post(`/api/products/${product.id}/stock`, { delta: 1 }, adminToken);
    expect(res.status).toBe(400);
    expect((await h.api.get(`/api/products/${product.id}`)).body.stock).toBe(1_000_000_000);
  });

  test('When the product is unknown, then 404; when a customer tries, then 403', async () => {
    expect((await h.api.post(`/api/products/${randomUUID()}/stock`, { delta: 1 }, adminToken)).body.code).toBe('PRODUCTS.NOT_FOUND');
    const product = await createProduct();
    expect((await h.api.post(`/api/products/${product.id}/stock`, { delta: 1 }, customerToken)).status).toBe(403);
  });
});

describe('the products door (used by orders)', () => {
  const door = () => h.monolith.modules.products.api;

  test('When one line of a reservation cannot be served, then nothing is reserved and no event survives', async () => {
    const [plenty, scarce] = [await createProduct({ stock: 10 }), await createProduct({ stock: 1 })];
    const orderId = randomUUID();

    const attempt = h.db.knex.transaction((trx) =>
      door().reserveStock(trx, orderId, [
        { productId: plenty.id, quantity: 2 },
        { productId: scarce.id, quantity: 2 },
      ]),
    );

    await expect(attempt).rejects.toMatchObject({ code: 'PRODUCTS.INSUFFICIENT_STOCK', status: 409 });
    const [p1, p2] = await door().getProducts([plenty.id, scarce.id]);
    expect([p1.stock, p2.stock].sort()).toEqual([1, 10]);
    expect((await h.events('product.stock_changed')).filter((e) => e.data.orderId === orderId)).toHaveLength(0);
  });

  test('When a reservation succeeds, then unit prices come back and release gives the stock back', async () => {
    const product = await createProduct({ stock: 5, priceCents: 700 });
    const orderId = randomUUID();
    const reserved = await h.db.knex.transaction((trx) => door().reserveStock(trx, orderId, [{ productId: product.id, quantity: 2 }]));
    expect(reserved).toEqual([{ productId: product.id, quantity: 2, priceCents: 700 }]);
    expect((await door().getProducts([product.id]))[0].stock).toBe(3);

    await h.db.knex.transaction((trx) => door().releaseStock(trx, orderId, [{ productId: product.id, quantity: 2 }]));
    expect((await door().getProducts([product.id]))[0].stock).toBe(5);
    const reasons = (await eventsFor('product.stock_changed', product.id)).map((e) => [e.data.reason, e.data.delta, e.data.orderId]);
    expect(reasons).toEqual([
      ['order_reserved', -2, orderId],
      ['order_released', 2, orderId],
    ]);
  });

  test('When an unknown product is reserved, then PRODUCTS.NOT_FOUND', async () => {
    await expect(h.db.knex.transaction((trx) => door().reserveStock(trx, randomUUID(), [{ productId: randomUUID(), quantity: 1 }]))).rejects.toMatchObject({
      code: 'PRODUCTS.NOT_FOUND',
    });
  });

  test('When getProducts is given a malformed id, then it is simply not found', async () => {
    const product = await createProduct();
    expect((await door().getProducts(['nope', product.id])).map((p) => p.id)).toEqual([product.id]);
  });
});

describe('seeding the demo catalog', () => {
  let empty: MonolithHarness;
  beforeAll(async () => {
    empty = await startMonolith('products_seed');
  });
  afterAll(() => empty.close());

  test('When the catalog is empty, then at least 20 products with unique SKUs are created, each with product.created; a second run creates none', async () => {
    const created = await empty.monolith.modules.products.api.seedDemoCatalog();

    expect(created).toBeGreaterThanOrEqual(20);
    const list = await empty.api.get('/api/products?limit=100');
    expect(list.body.items).toHaveLength(created);
    expect(new Set(list.body.items.map((p: { sku: string }) => p.sku)).size).toBe(created);
    expect(await empty.events('product.created')).toHaveLength(created);
    expect(await empty.monolith.modules.products.api.seedDemoCatalog()).toBe(0);
  });
});
