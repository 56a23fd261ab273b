import type { Scenario, Step } from '@banyan/parity';
import { UNKNOWN_ID } from './shared.ts';

const createAs = (as: string, sku: string, capture?: string): Step => ({
  name: `create ${sku} as ${as}`,
  method: 'POST',
  path: '/api/products',
  as,
  body: { sku: `parity-{{run}}-${sku}`, name: `Parity ${sku}`, description: 'Made by a parity scenario.', priceCents: 1999, stock: 5 },
  ...(capture ? { capture: { [capture]: 'body.id' }, expect: { status: 201 } } : {}),
});

export const productScenarios: Scenario[] = [
  {
    domain: 'products',
    name: 'An admin creates a product, anyone reads it, the admin edits it and corrects its stock',
    steps: [
      {
        ...createAs('admin', 'lamp', 'productId'),
        expect: { status: 201, equals: { 'body.sku': 'parity-{{run}}-lamp', 'body.stock': 5, 'headers.location': '/api/products/{{productId}}' } },
      },
      { name: 'read it anonymously', method: 'GET', path: '/api/products/{{productId}}', expect: { status: 200, equals: { 'body.id': '{{productId}}' } } },
      {
        name: 'rename and reprice it',
        method: 'PATCH',
        path: '/api/products/{{productId}}',
        as: 'admin',
        body: { name: 'Parity lamp, improved', priceCents: 2499 },
        expect: { status: 200, equals: { 'body.priceCents': 2499, 'body.stock': 5 } },
      },
      { name: 'receive 3 more', method: 'POST', path: '/api/products/{{productId}}/stock', as: 'admin', body: { delta: 3 }, expect: { status: 200, equals: { 'body.stock': 8 } } },
      {
        name: 'take out more than there is',
        method: 'POST',
        path: '/api/products/{{productId}}/stock',
        as: 'admin',
        body: { delta: -100 },
        expect: { status: 409, equals: { 'body.code': 'PRODUCTS.INSUFFICIENT_STOCK' } },
      },
      { name: 'read it again', method: 'GET', path: '/api/products/{{productId}}', expect: { status: 200, equals: { 'body.stock': 8, 'body.name': 'Parity lamp, improved' } } },
    ],
  },
  {
    domain: 'products',
    name: 'Unknown products are 404 PRODUCTS.NOT_FOUND, whether the id is unknown or not a UUID at all',
    steps: [
      { name: 'get an unknown id', method: 'GET', path: `/api/products/${UNKNOWN_ID}`, expect: { status: 404, equals: { 'body.code': 'PRODUCTS.NOT_FOUND' } } },
      { name: 'get a non-uuid id', method: 'GET', path: '/api/products/not-a-uuid', expect: { status: 404, equals: { 'body.code': 'PRODUCTS.NOT_FOUND' } } },
      {
        name: 'patch an unknown id',
        method: 'PATCH',
        path: `/api/products/${UNKNOWN_ID}`,
        as: 'admin',
        body: { name: 'Nobody' },
        expect: { status: 404, equals: { 'body.code': 'PRODUCTS.NOT_FOUND' } },
      },
      {
        name: 'adjust the stock of an unknown id',
        method: 'POST',
        path: `/api/products/${UNKNOWN_ID}/stock`,
        as: 'admin',
        body: { delta: 1 },
        expect: { status: 404, equals: { 'body.code': 'PRODUCTS.NOT_FOUND' } },
      },
    ],
  },
  {
    domain: 'products',
    name: 'Only admins change the catalog: customers get 403, callers without a valid token 401',
    customers: ['customer'],
    steps: [
      createAs('admin', 'desk', 'productId'),
      { ...createAs('customer', 'chair'), expect: { status: 403, equals: { 'body.code': 'AUTH.FORBIDDEN' } } },
      { ...createAs('anonymous', 'chair'), expect: { status: 401, equals: { 'body.code': 'AUTH.UNAUTHORIZED' } } },
      {
        ...createAs('anonymous', 'chair'),
        name: 'create with a token that is not a JWT',
        headers: { authorization: 'Bearer not-a-token' },
        expect: { status: 401, equals: { 'body.code': 'AUTH.UNAUTHORIZED' } },
      },
      {
        name: 'patch as a customer',
        method: 'PATCH',
        path: '/api/products/{{productId}}',
        as: 'customer',
        body: { priceCents: 1 },
        expect: { status: 403, equals: { 'body.code': 'AUTH.FORBIDDEN' } },
      },
      {
        name: 'adjust stock as a customer',
        method: 'POST',
        path: '/api/products/{{productId}}/stock',
        as: 'customer',
        body: { delta: 100 },
        expect: { status: 403, equals: { 'body.code': 'AUTH.FORBIDDEN' } },
      },
      { name: 'the product is unchanged', method: 'GET', path: '/api/products/{{productId}}', expect: { status: 200, equals: { 'body.priceCents': 1999, 'body.stock': 5 } } },
    ],
  },
  {
    domain: 'products',
    name: 'A SKU belongs to one product: creating or renaming onto a taken SKU is 409 PRODUCTS.SKU_TAKEN',
    steps: [
      createAs('admin', 'mug', 'mugId'),
      createAs('admin', 'cup', 'cupId'),
      { ...createAs('admin', 'mug'), name: 'create mug again', expect: { status: 409, equals: { 'body.code': 'PRODUCTS.SKU_TAKEN' } } },
      {
        name: 'give the cup the mug SKU',
        method: 'PATCH',
        path: '/api/products/{{cupId}}',
        as: 'admin',
        body: { sku: 'parity-{{run}}-mug' },
        expect: { status: 409, equals: { 'body.code': 'PRODUCTS.SKU_TAKEN' } },
      },
    ],
  },
  {
    domain: 'products',
    name: 'Invalid input is 400: VALIDATION.FAILED listing each problem, HTTP.MALFORMED_JSON for broken JSON',
    steps: [
      createAs('admin', 'vase', 'productId'),
      {
        name: 'create with a bad SKU, an empty name and a negative price',
        method: 'POST',
        path: '/api/products',
        as: 'admin',
        body: { sku: '-bad sku-', name: '', priceCents: -1 },
        expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' }, minLength: { 'body.errors': 3 } },
      },
      {
        name: 'create with an unknown field',
        method: 'POST',
        path: '/api/products',
        as: 'admin',
        body: { sku: 'parity-{{run}}-x', name: 'X', priceCents: 1, colour: 'red' },
        expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } },
      },
      { name: 'create with broken JSON', method: 'POST', path: '/api/products', as: 'admin', raw: '{"sku": ', expect: { status: 400, equals: { 'body.code': 'HTTP.MALFORMED_JSON' } } },
      {
        name: 'patch with nothing to change',
        method: 'PATCH',
        path: '/api/products/{{productId}}',
        as: 'admin',
        body: {},
        expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } },
      },
      {
        name: 'patch the stock directly',
        method: 'PATCH',
        path: '/api/products/{{productId}}',
        as: 'admin',
        body: { stock: 1000 },
        expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } },
      },
      {
        name: 'adjust stock by zero',
        method: 'POST',
        path: '/api/products/{{productId}}/stock',
        as: 'admin',
        body: { delta: 0 },
        expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } },
      },
      { name: 'list with limit 0', method: 'GET', path: '/api/products?limit=0', expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
      { name: 'list with limit 101', method: 'GET', path: '/api/products?limit=101', expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
      { name: 'list with a forged cursor', method: 'GET', path: '/api/products?cursor=forged', expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
    ],
  },
  {
    domain: 'products',
    name: 'The catalog is paged by limit and an opaque cursor',
    // The catalog is shared: which products fill a page depends on what else ran, so pages are
    // compared by shape (page size, fields and their types); the content is checked by the steps above.
    rules: { shape: ['body.items'] },
    steps: [
      createAs('admin', 'p1', 'p1'),
      createAs('admin', 'p2', 'p2'),
      createAs('admin', 'p3', 'p3'),
      {
        name: 'first page of 2',
        method: 'GET',
        path: '/api/products?limit=2',
        capture: { cursor: 'body.nextCursor' },
        expect: { status: 200, length: { 'body.items': 2 } },
      },
      {
        name: 'next page of 2',
        method: 'GET',
        path: '/api/products?limit=2&cursor={{cursor}}',
        expect: { status: 200, minLength: { 'body.items': 1 } },
        // Whether a third page exists depends on the size of the shared catalog.
        rules: { ignore: ['body.nextCursor', 'body.items'] },
      },
      { name: 'default page', method: 'GET', path: '/api/products', expect: { status: 200, minLength: { 'body.items': 3 } }, rules: { ignore: ['body.items', 'body.nextCursor'] } },
    ],
  },
];
