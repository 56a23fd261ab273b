import type { Knex } from '@banyan/db';
import type { Order, OrderItem, OrderStatus } from '../domain/order';

type Db = Knex | Knex.Transaction;

interface OrderRow {
  id: string;
  user_id: string;
  customer_email: string;
  status: OrderStatus;
  total_cents: string;
  payment_id: string | null;
  created_at: Date;
}

interface ItemRow {
  order_id: string;
  product_id: string;
  quantity: number;
  price_cents: number;
}

const toOrder = (row: OrderRow, items: OrderItem[]): Order => ({
  id: row.id,
  userId: row.user_id,
  customerEmail: row.customer_email,
  status: row.status,
  totalCents: Number(row.total_cents),
  paymentId: row.payment_id,
  items,
  createdAt: row.created_at.toISOString(),
});

async function withItems(db: Db, rows: OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const items: ItemRow[] = await db('orders.order_items').whereIn('order_id', rows.map((r) => r.id)).orderBy(['order_id', 'line']);
  const byOrder = new Map<string, OrderItem[]>();
  for (const i of items) {
    const list = byOrder.get(i.order_id) ?? byOrder.set(i.order_id, []).get(i.order_id)!;
    list.push({ productId: i.product_id, quantity: i.quantity, priceCents: i.price_cents });
  }
  return rows.map((r) => toOrder(r, byOrder.get(r.id) ?? []));
}

/** The only place with orders SQL. */
export const ordersRepository = {
  async insert(trx: Knex.Transaction, o: Omit<Order, 'createdAt' | 'paymentId'>): Promise<Order> {
    const [row] = await trx('orders.orders')
      .insert({ id: o.id, user_id: o.userId, customer_email: o.customerEmail, status: o.status, total_cents: o.totalCents })
      .returning('*');
    await trx('orders.order_items').insert(
      o.items.map((item, line) => ({ order_id: o.id, line, item_key: `${o.id}:${line}`, product_id: item.productId, quantity: item.quantity, price_cents: item.priceCents })),
    );
    return toOrder(row, o.items);
  },

  async find(db: Db, id: string): Promise<Order | undefined> {
    const row = await db('orders.orders').where({ id }).first();
    return row ? (await withItems(db, [row]))[0] : undefined;
  },

  /** A customer's orders, newest first (ids are uuid v7, so id order is creation order). */
  async pageForUser(db: Db, userId: string, limit: number, beforeId?: string): Promise<{ items: Order[]; hasMore: boolean }> {
    const rows = await db('orders.orders')
      .where({ user_id: userId })
      .modify((q) => (beforeId ? q.where('id', '<', beforeId) : q))
      .orderBy('id', 'desc')
      .limit(limit + 1);
    return { items: await withItems(db, rows.slice(0, limit)), hasMore: rows.length > limit };
  },

  /**
   * Apply the other side's `order.created` (two-way sync): the order with its lines, if this side
   * does not hold a newer version of it. Returns whether anything changed.
   */
  async applyCreated(trx: Knex.Transaction, o: Omit<Order, 'paymentId'>, version: number): Promise<boolean> {
    const row = { id: o.id, user_id: o.userId, customer_email: o.customerEmail, status: o.status, total_cents: o.totalCents, created_at: o.createdAt, version };
    const changed = await trx.raw(
      `INSERT INTO orders.orders AS t (id, user_id, customer_email, status, total_cents, created_at, version)
       VALUES (:id, :user_id, :customer_email, :status, :total_cents, :created_at, :version)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version, updated_at = now() WHERE t.version < EXCLUDED.version`,
      row,
    );
    await trx('orders.order_items')
      .insert(o.items.map((item, line) => ({ order_id: o.id, line, item_key: `${o.id}:${line}`, product_id: item.productId, quantity: item.quantity, price_cents: item.priceCents })))
      .onConflict('item_key')
      .ignore();
    return (changed.rowCount ?? 0) > 0;
  },

  /**
   * Apply the other side's later status change (confirmed, cancelled) if newer. Throws while the
   * order is not here yet: its `order.created` travels on another queue, and the consumer's retry
   * applies this once it has arrived.
   */
  async applyStatus(trx: Knex.Transaction, id: string, status: OrderStatus, version: number, paymentId?: string): Promise<boolean> {
    const row = await trx('orders.orders').where({ id }).forUpdate().first('version');
    if (!row) throw new Error(`order ${id} not replicated yet; retrying`);
    if (Number(row.version) >= version) return false;
    await trx('orders.orders')
      .where({ id })
      .update({ status, version, updated_at: trx.fn.now(), ...(paymentId ? { payment_id: paymentId } : {}) });
    return true;
  },

  /** The outbox sequence of the event that reported the row's last change: its version (two-way sync). */
  async stamp(trx: Knex.Transaction, id: string, version: number): Promise<void> {
    await trx('orders.orders').where({ id }).update({ version });
  },

  /** Compare-and-set on the status; undefined when the order was not in `from` any more. */
  async transition(trx: Knex.Transaction, id: string, from: OrderStatus, to: OrderStatus, paymentId?: string): Promise<Order | undefined> {
    const [row] = await trx('orders.orders')
      .where({ id, status: from })
      .update({ status: to, updated_at: trx.fn.now(), ...(paymentId ? { payment_id: paymentId } : {}) })
      .returning('*');
    return row ? (await withItems(trx, [row]))[0] : undefined;
  },
};

export type OrdersRepository = typeof ordersRepository;
