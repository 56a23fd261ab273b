import type { Scenario } from '@banyan/parity';
import { APPROVED_CARD, DECLINED_CARD, ORDER_REF, placeOrder, stockProduct } from './shared.ts';

/** Email goes out after the order commits, through the event and the consumer: never instantly. */
const EVENTUALLY = { timeoutMs: 15_000, intervalMs: 200 };

/** So which email lands on which page may differ; the step before compared both emails in full. */
const PAGE_CONTENT = ['body.items[*].id', 'body.items[*].subject'];

export const notificationScenarios: Scenario[] = [
  {
    domain: 'notifications',
    name: 'After an order, its customer eventually sees one sent confirmation email, and nobody else sees it',
    customers: ['customer', 'other'],
    rules: { mask: [ORDER_REF] },
    steps: [
      stockProduct('productId'),
      { ...placeOrder('customer', 'productId', 1, APPROVED_CARD, 'orderId'), expect: { status: 201 } },
      {
        name: 'the customer lists their notifications',
        method: 'GET',
        path: '/api/notifications',
        as: 'customer',
        eventually: EVENTUALLY,
        expect: {
          status: 200,
          length: { 'body.items': 1 },
          equals: { 'body.items[0].channel': 'email', 'body.items[0].to': '{{customer.email}}', 'body.items[0].status': 'sent', 'body.nextCursor': null },
        },
      },
      { name: 'another customer lists theirs', method: 'GET', path: '/api/notifications', as: 'other', expect: { status: 200, length: { 'body.items': 0 } } },
    ],
  },
  {
    domain: 'notifications',
    name: 'A declined order is notified too, and notifications page by limit and cursor',
    rules: { mask: [ORDER_REF] },
    steps: [
      stockProduct('productId'),
      { ...placeOrder('customer', 'productId', 1, APPROVED_CARD), expect: { status: 201 } },
      { ...placeOrder('customer', 'productId', 1, DECLINED_CARD), expect: { status: 402 } },
      {
        name: 'both emails are sent',
        method: 'GET',
        path: '/api/notifications',
        as: 'customer',
        eventually: EVENTUALLY,
        expect: { status: 200, length: { 'body.items': 2 }, equals: { 'body.items[0].status': 'sent', 'body.items[1].status': 'sent' } },
        // Which of the two events a consumer handles first is not part of the contract.
        rules: { unordered: ['body.items'] },
      },
      {
        name: 'first page of 1',
        method: 'GET',
        path: '/api/notifications?limit=1',
        as: 'customer',
        capture: { cursor: 'body.nextCursor' },
        expect: { status: 200, length: { 'body.items': 1 } },
        rules: { ignore: PAGE_CONTENT },
      },
      {
        name: 'second page of 1',
        method: 'GET',
        path: '/api/notifications?limit=1&cursor={{cursor}}',
        as: 'customer',
        expect: { status: 200, length: { 'body.items': 1 }, equals: { 'body.nextCursor': null } },
        rules: { ignore: PAGE_CONTENT },
      },
    ],
  },
  {
    domain: 'notifications',
    name: 'Notifications are private: 401 without a valid token, 400 for a bad limit or cursor',
    customers: ['customer'],
    steps: [
      { name: 'no token', method: 'GET', path: '/api/notifications', expect: { status: 401, equals: { 'body.code': 'AUTH.UNAUTHORIZED' } } },
      {
        name: 'a token that is not a JWT',
        method: 'GET',
        path: '/api/notifications',
        headers: { authorization: 'Bearer nope' },
        expect: { status: 401, equals: { 'body.code': 'AUTH.UNAUTHORIZED' } },
      },
      { name: 'a new customer has none', method: 'GET', path: '/api/notifications', as: 'customer', expect: { status: 200, length: { 'body.items': 0 }, equals: { 'body.nextCursor': null } } },
      { name: 'limit 0', method: 'GET', path: '/api/notifications?limit=0', as: 'customer', expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
      { name: 'a forged cursor', method: 'GET', path: '/api/notifications?cursor=forged', as: 'customer', expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
    ],
  },
];
