/**
 * `banyan backfill notifications` and `banyan verify notifications` through @banyan/sync's engine
 * with the spec the shop's banyan.migration.ts declares (migration/sync/notifications.ts), between
 * a database migrated as the monolith's and one as the service's.
 */
import { migrate } from '@banyan/db';
import { outboxSchema } from '@banyan/outbox';
import { inboxSchema } from '@banyan/inbox';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';
import { v7 as uuidv7 } from 'uuid';
import { backfill, loadSyncSpec, verify } from '@banyan/sync';
import { notificationsSchema as moduleSchema } from '../../../monolith/src/modules/notifications/data/migrations';
import { notificationsSchema as serviceSchema } from '../src/data/migrations';

const syncSpec = loadSyncSpec('notifications');
let monolith: TestDatabase;
let service: TestDatabase;

beforeAll(async () => {
  [monolith, service] = await Promise.all([createTestDatabase('notif_backfill_m'), createTestDatabase('notif_backfill_s')]);
  await migrate(monolith.knex, [outboxSchema, inboxSchema, moduleSchema]);
  await migrate(service.knex, [outboxSchema, inboxSchema, serviceSchema]);
});
afterAll(async () => {
  await monolith?.drop();
  await service?.drop();
});

const row = (status: 'pending' | 'sent' | 'failed', version: number) => ({
  id: uuidv7(),
  source_event_id: uuidv7(),
  user_id: uuidv7(),
  order_id: uuidv7(),
  channel: 'email',
  recipient: 'someone@example.com',
  subject: `Order ${status}`,
  body: 'Thank you.',
  status,
  version,
  // Microseconds, as now() stores them: verify must compare at the events' millisecond precision.
  created_at: monolith.knex.raw(`'2026-01-02T03:04:05.678912Z'::timestamptz`),
  sent_at: status === 'sent' ? monolith.knex.raw(`'2026-01-02T03:04:06.123456Z'::timestamptz`) : null,
});

test('When the monolith holds sent, failed and pending notifications, then backfill copies the settled ones, verify finds no difference, and the pending one stays with its sender', async () => {
  const sent = row('sent', 1);
  const failed = row('failed', 0);
  const pending = row('pending', 0);
  await monolith.knex('notifications.notifications').insert([sent, failed, pending]);

  const copied = await backfill(syncSpec, { source: monolith.knex, target: service.knex }, { batchSize: 2 });
  const checked = await verify(syncSpec, { source: monolith.knex, target: service.knex });

  expect(copied).toMatchObject({ read: 2, written: 2 });
  expect(checked.differences).toEqual([]);
  const ids = (await service.knex('notifications.notifications').select('id')).map((r) => r.id).sort();
  expect(ids).toEqual([sent.id, failed.id].sort());
  const [sequence] = await service.knex('outbox.aggregate_sequences').where({ aggregate_type: 'notifications', aggregate_id: sent.id });
  expect(Number(sequence.last_sequence)).toBe(1);
});

test('When the service already holds a newer copy, then backfill leaves it and verify reports the difference', async () => {
  const sent = row('sent', 1);
  await monolith.knex('notifications.notifications').insert(sent);
  await service.knex('notifications.notifications').insert({ ...row('sent', 2), id: sent.id, source_event_id: sent.source_event_id, subject: 'Newer' });

  const copied = await backfill(syncSpec, { source: monolith.knex, target: service.knex });
  const checked = await verify(syncSpec, { source: monolith.knex, target: service.knex });

  expect(copied.skipped).toBeGreaterThanOrEqual(1);
  const [kept] = await service.knex('notifications.notifications').where({ id: sent.id });
  expect(kept).toMatchObject({ subject: 'Newer', version: 2 });
  expect(checked.differences).toEqual([expect.objectContaining({ key: sent.id, kind: 'differs' })]);
});
