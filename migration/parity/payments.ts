import type { Scenario } from '@banyan/parity';
import { APPROVED_CARD, DECLINED_CARD, UNKNOWN_ID, placeOrder, stockProduct } from './shared.ts';

export const paymentScenarios: Scenario[] = [
  {
    domain: 'payments',
    name: 'A paid order has one captured payment for its total, which its owner can read by order and by id',
    steps: [
      stockProduct('productId', 1250),
      { ...placeOrder('customer', 'productId', 2, APPROVED_CARD, 'orderId'), expect: { status: 201, equals: { 'body.status': 'confirmed', 'body.totalCents': 2500 } } },
      {
        name: 'find the payment by order',
        method: 'GET',
        path: '/api/payments?orderId={{orderId}}',
        as: 'customer',
        capture: { paymentId: 'body.items[0].id' },
        expect: { status: 200, length: { 'body.items': 1 }, equals: { 'body.items[0].orderId': '{{orderId}}', 'body.items[0].status': 'captured', 'body.items[0].amountCents': 2500, 'body.nextCursor': null } },
      },
      {
        name: 'read the payment',
        method: 'GET',
        path: '/api/payments/{{paymentId}}',
        as: 'customer',
        expect: { status: 200, equals: { 'body.id': '{{paymentId}}', 'body.status': 'captured' } },
      },
      { name: 'an admin reads it too', method: 'GET', path: '/api/payments/{{paymentId}}', as: 'admin', expect: { status: 200 } },
    ],
  },
  {
    domain: 'payments',
    name: "Another customer's payment does not exist for you: 404 PAYMENTS.NOT_FOUND, by id and by order",
    customers: ['customer', 'other'],
    steps: [
      stockProduct('productId'),
      { ...placeOrder('customer', 'productId', 1, APPROVED_CARD, 'orderId'), expect: { status: 201 } },
      { name: 'owner finds it', method: 'GET', path: '/api/payments?orderId={{orderId}}', as: 'customer', capture: { paymentId: 'body.items[0].id' }, expect: { status: 200 } },
      { name: 'other reads it by id', method: 'GET', path: '/api/payments/{{paymentId}}', as: 'other', expect: { status: 404, equals: { 'body.code': 'PAYMENTS.NOT_FOUND' } } },
      { name: 'other looks it up by order', method: 'GET', path: '/api/payments?orderId={{orderId}}', as: 'other', expect: { status: 404, equals: { 'body.code': 'PAYMENTS.NOT_FOUND' } } },
    ],
  },
  {
    domain: 'payments',
    name: 'A declined card is 402 PAYMENTS.DECLINED, and leaves a declined payment and a payment_declined order',
    steps: [
      stockProduct('productId', 999, 3),
      {
        ...placeOrder('customer', 'productId', 1, DECLINED_CARD),
        capture: { orderId: 'body.orderId' },
        expect: { status: 402, equals: { 'body.code': 'PAYMENTS.DECLINED' } },
      },
      {
        name: 'the declined payment',
        method: 'GET',
        path: '/api/payments?orderId={{orderId}}',
        as: 'customer',
        expect: { status: 200, length: { 'body.items': 1 }, equals: { 'body.items[0].status': 'declined', 'body.items[0].amountCents': 999 } },
      },
      { name: 'the order', method: 'GET', path: '/api/orders/{{orderId}}', as: 'customer', expect: { status: 200, equals: { 'body.status': 'payment_declined' } } },
      { name: 'the stock is back', method: 'GET', path: '/api/products/{{productId}}', expect: { status: 200, equals: { 'body.stock': 3 } } },
    ],
  },
  {
    domain: 'payments',
    name: 'Payments need a token (401) and a real id (404 for unknown and non-uuid ids, 400 for a bad orderId)',
    customers: ['customer'],
    steps: [
      { name: 'no token', method: 'GET', path: `/api/payments/${UNKNOWN_ID}`, expect: { status: 401, equals: { 'body.code': 'AUTH.UNAUTHORIZED' } } },
      { name: 'unknown id', method: 'GET', path: `/api/payments/${UNKNOWN_ID}`, as: 'customer', expect: { status: 404, equals: { 'body.code': 'PAYMENTS.NOT_FOUND' } } },
      { name: 'non-uuid id', method: 'GET', path: '/api/payments/nope', as: 'customer', expect: { status: 404, equals: { 'body.code': 'PAYMENTS.NOT_FOUND' } } },
      { name: 'unknown order', method: 'GET', path: `/api/payments?orderId=${UNKNOWN_ID}`, as: 'customer', expect: { status: 404, equals: { 'body.code': 'PAYMENTS.NOT_FOUND' } } },
      { name: 'orderId not a uuid', method: 'GET', path: '/api/payments?orderId=nope', as: 'customer', expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
      { name: 'no orderId', method: 'GET', path: '/api/payments', as: 'customer', expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
    ],
  },
];
