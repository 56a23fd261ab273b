import type { Scenario } from '@banyan/parity';

const PASSWORD = 'parity users password';
const bearer = { authorization: 'Bearer {{token}}' };

export const userScenarios: Scenario[] = [
  {
    domain: 'users',
    name: 'A visitor registers, logs in, reads and renames themselves',
    steps: [
      {
        name: 'register',
        method: 'POST',
        path: '/api/users',
        body: { email: 'parity-{{run}}-ann@example.com', password: PASSWORD, name: 'Ann' },
        expect: { status: 201, equals: { 'body.role': 'customer', 'body.name': 'Ann' } },
      },
      {
        name: 'log in',
        method: 'POST',
        path: '/api/users/login',
        body: { email: 'parity-{{run}}-ann@example.com', password: PASSWORD },
        capture: { token: 'body.token' },
        expect: { status: 200, equals: { 'body.user.email': 'parity-{{run}}-ann@example.com' } },
      },
      { name: 'read me', method: 'GET', path: '/api/users/me', headers: bearer, expect: { status: 200, equals: { 'body.name': 'Ann' } } },
      { name: 'rename me', method: 'PATCH', path: '/api/users/me', headers: bearer, body: { name: 'Ann B.' }, expect: { status: 200, equals: { 'body.name': 'Ann B.' } } },
      { name: 'read me again', method: 'GET', path: '/api/users/me', headers: bearer, expect: { status: 200, equals: { 'body.name': 'Ann B.' } } },
    ],
  },
  {
    domain: 'users',
    name: 'Registration and login refuse what they must: 409 email taken, 401 bad credentials, 400 invalid input, 401 without a token',
    steps: [
      { name: 'register', method: 'POST', path: '/api/users', body: { email: 'parity-{{run}}-bo@example.com', password: PASSWORD, name: 'Bo' }, expect: { status: 201 } },
      {
        name: 'register the same email',
        method: 'POST',
        path: '/api/users',
        body: { email: 'parity-{{run}}-bo@example.com', password: PASSWORD, name: 'Bo again' },
        expect: { status: 409, equals: { 'body.code': 'USERS.EMAIL_TAKEN' } },
      },
      {
        name: 'log in with a wrong password',
        method: 'POST',
        path: '/api/users/login',
        body: { email: 'parity-{{run}}-bo@example.com', password: 'wrong password entirely' },
        expect: { status: 401, equals: { 'body.code': 'USERS.INVALID_CREDENTIALS' } },
      },
      {
        name: 'log in as nobody',
        method: 'POST',
        path: '/api/users/login',
        body: { email: 'parity-{{run}}-nobody@example.com', password: PASSWORD },
        expect: { status: 401, equals: { 'body.code': 'USERS.INVALID_CREDENTIALS' } },
      },
      { name: 'register with a bad email', method: 'POST', path: '/api/users', body: { email: 'not an email', password: PASSWORD, name: 'X' }, expect: { status: 400, equals: { 'body.code': 'VALIDATION.FAILED' } } },
      { name: 'read me without a token', method: 'GET', path: '/api/users/me', expect: { status: 401, equals: { 'body.code': 'AUTH.UNAUTHORIZED' } } },
    ],
  },
];
