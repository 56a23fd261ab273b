import type { Scenario } from '@banyan/parity';
import { APPROVED_CARD, UNKNOWN_ID, placeOrder, stockProduct } from './shared.ts';

export const orderScenarios: Scenario[] = [
  {
    domain: 'orders',
    name: 'A customer orders two products, lists and reads the order, cancels it once',
    // An order's lines have no defined order (contract); the gateway's shadow rules say the same.
    rules: { unordered: ['body.items', 'body.items[*].items'] },
    steps: [
      stockProduct('cheap', 300, 10),
      stockProduct('dear', 4500, 10),
      {
        name: 'order both',
        method: 'POST',
        path: '/api/orders',
        as: 'customer',
        body: { items: [{ productId: '{{cheap}}', quantity: 3 }, { productId: '{{dear}}', quantity: 1 }], card: { number: APPROVED_CARD } },
        capture: { orderId: 'body.id' },
        expect: { status: 201, equals: { 'body.status': 'confirmed', 'body.totalCents': 5400, 'headers.location': '/api/orders/{{orderId}}' } },
      },
      { name: 'list mine', method: 'GET', path: '/api/orders', as: 'customer', expect: { status: 200, length: { 'body.items': 1 }, equals: { 'body.items[0].id': '{{orderId}}' } } },
      { name: 'read it', method: 'GET', path: '/api/orders/{{orderId}}', as: 'customer', expect: { status: 200, length: { 'body.items': 2 } } },
      { name: 'cancel it', method: 'POST', path: '/api/orders/{{orderId}}/cancel', as: 'customer', expect: { status: 200, equals: { 'body.status': 'cancelled' } } },
      {
        name: 'cancel it again',
        method: 'POST',
        path: '/api/orders/{{orderId}}/cancel',
        as: 'customer',
        expect: { status: 409, equals: { 'body.code': 'ORDERS.NOT_CANCELLABLE' } },
      },
      {
        name: 'the stock is back',
        method: 'GET',
        path: '/api/products/{{cheap}}',
        // At once in-process; while products is extracted, the monolith gives it back at the
        // service after the cancel commits (ADR 0302), a moment after the answer.
        eventually: { timeoutMs: 5000 },
        expect: { status: 200, equals: { 'body.stock': 10 } },
      },
    ],
  },
  {
    domain: 'orders',
    name: 'Orders refuse what they must: 404 for others and unknown ids, 409 without stock, 400 for a bad card or no items, 401 without a token',
    customers: ['customer', 'other'],
    steps: [
      stockProduct('productId', 100, 2),
      { ...placeOrder('customer', 'productId', 1, APPROVED_CARD, 'orderId'), expect: { status: 201 } },
      { name: 'other reads it', method: 'GET', path: '/api/orders/{{orderId}}', as: 'other', expect: { status: 404, equals: { 'body.code': 'ORDERS.NOT_FOUND' } } },
      { name: 'other cancels it', method: 'POST', path: '/api/orders/{{orderId}}/cancel', as: 'other', expect: { status: 404, equals: { 'body.code': 'ORDERS.NOT_FOUND' } } },
      { name: 'unknown id', method: 'GET', path: `/api/orders/${UNKNOWN_ID}`, as: 'customer', expect: { status: 404, equals: { 'body.code': 'ORDERS.NOT_FOUND' } } },
      { name: 'non-uuid id', method: 'GET', path: '/api/orders/nope', as: 'customer', expect: { status: 404, equals: { 'body.code': 'ORDERS.NOT_FOUND' } } },
      { ...placeOrder('customer', 'productId', 5, APPROVED_CARD), expect: { status: 409, equals: { 'body.code': 'PRODUCTS.INSUFFICIENT_STOCK' } } },
      { ...placeOrder('customer', 'productId', 1, '4242424242424241'), expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
      {
        name: 'order nothing',
        method: 'POST',
        path: '/api/orders',
        as: 'customer',
        body: { items: [], card: { number: APPROVED_CARD } },
        expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } },
      },
      { name: 'list without a token', method: 'GET', path: '/api/orders', expect: { status: 401, equals: { 'body.code': 'AUTH.UNAUTHORIZED' } } },
    ],
  },
];
