import type { Knex } from '@banyan/db';
import type { EventData, EventEnvelope } from '@banyan/events';
import type { Subscription } from '@banyan/inbox';
import { continueSequences } from '@banyan/outbox';
import { accountReplica } from '../data/repository';
import { ACCOUNT_SYNC_EXCHANGE } from './account-changed';

/**
 * Keep this side's accounts in step with the other side's registrations and profile changes (ADR
 * 0301's convention, ADR 0333). Only events whose origin is `from` are applied, written straight to
 * the table and never through the outbox, so nothing echoes. A registration of the same email on
 * both sides inside one switch makes the insert fail on the unique email: the event is retried,
 * then dead-lettered, and `banyan verify users` reports the two accounts.
 */
export function userSyncSubscriptions(options: { consumer: string; from: string; fromWinsTies: boolean }): Subscription[] {
  return [
    {
      consumer: options.consumer,
      eventType: 'user.account_changed',
      exchange: ACCOUNT_SYNC_EXCHANGE,
      async handle(event: EventEnvelope<EventData<'user.account_changed'>>, trx: Knex.Transaction) {
        if (event.origin !== options.from) return;
        const { userId, email, name, role, passwordHash } = event.data;
        await accountReplica.upsertIfNewer(trx, { id: userId, email, name, role, passwordHash, version: event.sequence }, options.fromWinsTies);
        // This side's next own write on the account numbers after the change it just applied.
        await continueSequences(trx, [{ aggregateType: 'users', aggregateId: event.subject, sequence: event.sequence }]);
      },
    },
  ];
}
