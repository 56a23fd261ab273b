import type { TableSyncSpec } from '@banyan/sync';

/**
 * Accounts move with their password hashes: the hash holds its own scrypt parameters and salt
 * (`scrypt$N$r$p$salt$hash`), so copying the column copies everything a login needs, and no
 * password is ever recomputed or seen. The hash is compared like any column and never printed
 * (`secret`). Signing keys and throttle counts are not copied: both sides read them in one store
 * (docs/adr/0333-users-extraction-keys-and-counts-in-one-store.md). Timestamps are left out:
 * each side stamps its own clock.
 */
export const usersTables: TableSyncSpec[] = [
  {
    source: 'users.users',
    target: 'users.users',
    key: 'id',
    columns: ['id', 'email', 'name', 'role', 'password_hash'],
    secret: ['password_hash'],
    version: 'version',
    aggregateType: 'users',
  },
];
