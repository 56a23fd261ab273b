import type { Knex } from '@banyan/db';
import { encodeCursor } from '@banyan/http';
import type { NotificationRow, NotificationsRepository } from '../data/repository';

export interface NotificationView {
  id: string;
  channel: 'email';
  to: string;
  subject: string;
  status: 'pending' | 'sent' | 'failed';
  createdAt: string;
}

export interface NotificationPage {
  items: NotificationView[];
  nextCursor: string | null;
}

export const toView = (row: NotificationRow): NotificationView => ({
  id: row.id,
  channel: row.channel,
  to: row.recipient,
  subject: row.subject,
  status: row.status,
  createdAt: new Date(row.created_at).toISOString(),
});

/** The cursor is the last id of the page: ids are uuid v7, so id order is creation order. */
export async function listNotifications(deps: { knex: Knex; store: NotificationsRepository }, userId: string, limit: number, afterId?: string): Promise<NotificationPage> {
  // One row more than asked tells whether there is a next page without a COUNT.
  const rows = await deps.store.listByUser(deps.knex, userId, limit + 1, afterId);
  const page = rows.slice(0, limit);
  return {
    items: page.map(toView),
    nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null,
  };
}
