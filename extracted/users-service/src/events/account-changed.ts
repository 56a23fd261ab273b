import type { Knex } from '@banyan/db';
import type { EventData } from '@banyan/events';
import type { Outbox } from '@banyan/outbox';
import { accountReplica, type StoredUser } from '../data/repository';

export type UserAccountChanged = EventData<'user.account_changed'>;

/**
 * Its own exchange, not the `users` domain exchange: the event carries a password hash, so it goes
 * only where a queue asks for it by this name (the two sync consumers), never into what binds a
 * whole domain exchange (the event history stream binds each with `#`, ADR 0110).
 */
export const ACCOUNT_SYNC_EXCHANGE = 'users-sync';

/**
 * The whole account, hash included, after every change to it: what the other side of the two-way
 * sync applies (docs/adr/0333-users-extraction-keys-and-counts-in-one-store.md). The event's
 * sequence becomes the row's version, so that side can tell which of two changes is newer.
 */
export const accountEvents = (outbox: Outbox) => ({
  async changed(trx: Knex.Transaction, account: StoredUser): Promise<void> {
    const event = await outbox.add<UserAccountChanged>(trx, {
      type: 'user.account_changed',
      subject: account.id,
      exchange: ACCOUNT_SYNC_EXCHANGE,
      // One sequence per account with user.registered, whatever the exchange.
      aggregateType: 'users',
      data: { userId: account.id, email: account.email, name: account.name, role: account.role, passwordHash: account.passwordHash },
    });
    await accountReplica.setVersion(trx, account.id, event.sequence);
  },
});

export type AccountEvents = ReturnType<typeof accountEvents>;
