import type { Knex } from '@banyan/db';
import type { Payment, PaymentStatus } from '../domain/payment';
import { continueSequences } from '@banyan/outbox';

const TABLE = 'payments.payments';

interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  amount_cents: string;
  status: PaymentStatus;
  decline_reason: string | null;
  processor_reference: string | null;
  card_last4: string;
}

const COLUMNS = ['id', 'order_id', 'user_id', 'amount_cents', 'status', 'decline_reason', 'processor_reference', 'card_last4'];

// bigint comes back as a string; amounts are capped far below 2^53 by the orders module.
const toPayment = (row: PaymentRow): Payment => ({
  id: row.id,
  orderId: row.order_id,
  userId: row.user_id,
  amountCents: Number(row.amount_cents),
  status: row.status,
  declineReason: row.decline_reason,
  processorReference: row.processor_reference,
  cardLast4: row.card_last4,
});

/** A payment as another side's event describes it (two-way sync), at that event's sequence. */
export interface PaymentReplica {
  id: string;
  orderId: string;
  status: Exclude<PaymentStatus, 'pending'>;
  amountCents: number;
  version: number;
  userId?: string;
  cardLast4?: string;
  declineReason?: string;
  processorReference?: string;
}

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

  /** Remember which event last changed the row (its outbox sequence), in the transaction that wrote both. */
  async stamp(trx: Knex.Transaction, id: string, version: number): Promise<void> {
    await trx(TABLE).where({ id }).update({ version });
  },

  /**
   * Apply another side's change if it is newer than what this side holds. Keyed by order (one
   * payment per order): a claim still pending here for the same order is replaced by the other
   * side's answer, which the processor gave under the same order-derived key. Returns whether
   * anything changed.
   */
  async applyReplica(trx: Knex.Transaction, r: PaymentReplica): Promise<boolean> {
    const changed = {
      id: r.id,
      status: r.status,
      amount_cents: r.amountCents,
      version: r.version,
      updated_at: trx.fn.now(),
      ...(r.declineReason !== undefined ? { decline_reason: r.declineReason } : {}),
      ...(r.processorReference !== undefined ? { processor_reference: r.processorReference } : {}),
    };
    if (r.userId !== undefined && r.cardLast4 !== undefined) {
      const rows = await trx(TABLE)
        .insert({ ...changed, order_id: r.orderId, user_id: r.userId, card_last4: r.cardLast4 })
        .onConflict('order_id')
        .merge(changed)
        .where(`${TABLE}.version`, '<', r.version)
        .returning('id');
      return rows.length > 0;
    }
    // An event from before the replica fields existed can only update a row this side already has.
    const updated = await trx(TABLE).where({ order_id: r.orderId }).andWhere('version', '<', r.version).update(changed);
    if (updated === 0 && !(await trx(TABLE).where({ order_id: r.orderId }).first('id'))) {
      throw new Error(`payment ${r.id} (order ${r.orderId}) is unknown here and its event lacks the fields to create it`);
    }
    return updated > 0;
  },

  /**
   * Raise this side's outbox sequence for the payment to the applied version, so its next own
   * event on that payment continues the shared history instead of restarting at 1 (which the
   * other side would discard as older).
   */
  async raiseSequence(trx: Knex.Transaction, id: string, version: number): Promise<void> {
    await continueSequences(trx, [{ aggregateType: 'payments', aggregateId: id, sequence: version }]);
  },

};

export type PaymentsRepository = typeof paymentsRepository;
