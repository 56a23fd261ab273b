import type { ParityAuth } from '@banyan/parity';

/**
 * How the shop's actors log in and its customers register (the users domain's contract): what
 * banyan.migration.ts declares as `parity.auth`, and what a test gives a parity Target.
 */
export const shopParityAuth = {
  login: { path: '/api/users/login', body: { email: '{{email}}', password: '{{password}}' }, token: 'token', id: 'user.id' },
  register: { path: '/api/users', body: { email: '{{email}}', password: '{{password}}', name: '{{name}}' } },
  admin: { email: 'admin@banyan.local', passwordEnv: 'BANYAN_ADMIN_PASSWORD' },
} satisfies ParityAuth & { admin: { email: string; passwordEnv: string } };
