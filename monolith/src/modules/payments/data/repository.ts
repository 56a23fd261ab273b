import type { Knex } from '@banyan/db';
import type { Payment, PaymentStatus } from '../domain/payment';

const TABLE = 'payments.payments';

interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  amount_cents: string;
  status: PaymentStatus;
  decline_reason: string | null;
  processor_reference: string | null;
}

const COLUMNS = ['id', 'order_id', 'user_id', 'amount_cents', 'status', 'decline_reason', 'processor_reference'];

// bigint comes back as a string; amounts are capped far below 2^53 by the orders module.
const toPayment = (row: PaymentRow): Payment => ({
  id: row.id,
  orderId: row.order_id,
  userId: row.user_id,
  amountCents: Number(row.amount_cents),
  status: row.status,
  declineReason: row.decline_reason,
  processorReference: row.processor_reference,
});

type Db = Knex | Knex.Transaction;

/** The only place with payments SQL. */
export const paymentsRepository = {
  /** Claim the order's payment slot; undefined when another call claimed it first. */
  async insertPending(
    db: Db,
    p: { id: string; orderId: string; userId: string; amountCents: number; cardLast4: string },
  ): Promise<Payment | undefined> {
    const [row] = await db(TABLE)
      .insert({ id: p.id, order_id: p.orderId, user_id: p.userId, amount_cents: p.amountCents, status: 'pending', card_last4: p.cardLast4 })
      .onConflict('order_id')
      .ignore()
      .returning(COLUMNS);
    return row ? toPayment(row) : undefined;
  },

  async byOrder(db: Db, orderId: string): Promise<Payment | undefined> {
    const row = await db(TABLE).where({ order_id: orderId }).first(COLUMNS);
    return row ? toPayment(row) : undefined;
  },

  async byId(db: Db, id: string): Promise<Payment | undefined> {
    const row = await db(TABLE).where({ id }).first(COLUMNS);
    return row ? toPayment(row) : undefined;
  },

  /** Move from one status to the next; undefined if the payment was no longer in `from` (a concurrent call won). */
  async transition(
    trx: Knex.Transaction,
    id: string,
    from: PaymentStatus,
    to: PaymentStatus,
    fields: { declineReason?: string; processorReference?: string } = {},
  ): Promise<Payment | undefined> {
    const [row] = await trx(TABLE)
      .where({ id, status: from })
      .update({
        status: to,
        updated_at: trx.fn.now(),
        ...(fields.declineReason !== undefined ? { decline_reason: fields.declineReason } : {}),
        ...(fields.processorReference !== undefined ? { processor_reference: fields.processorReference } : {}),
      })
      .returning(COLUMNS);
    return row ? toPayment(row) : undefined;
  },
};
