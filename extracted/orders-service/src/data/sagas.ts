import type { Knex } from '@banyan/db';
import type { OrderLine } from '../domain/order';

type Db = Knex | Knex.Transaction;

const TABLE = 'orders.checkout_sagas';

/**
 * Where a checkout is: `reserving` (stock asked for), `charging` (order pending, card asked for),
 * `confirming` (the charge's capture is recorded: the pivot), `compensating` (undoing what was
 * done before the pivot), `done`.
 */
export type SagaState = 'reserving' | 'charging' | 'confirming' | 'compensating' | 'done';
export type SagaOutcome = 'confirmed' | 'declined' | 'rejected' | 'failed';
export type Compensation = 'stock' | 'charge';

export interface Saga {
  orderId: string;
  userId: string;
  customerEmail: string;
  lines: OrderLine[];
  state: SagaState;
  outcome: SagaOutcome | null;
  paymentId: string | null;
  compensations: Compensation[];
  attempts: number;
}

interface SagaRow {
  order_id: string;
  user_id: string;
  customer_email: string;
  lines: OrderLine[];
  state: SagaState;
  outcome: SagaOutcome | null;
  payment_id: string | null;
  compensations: Compensation[];
  attempts: number;
}

const toSaga = (r: SagaRow): Saga => ({
  orderId: r.order_id,
  userId: r.user_id,
  customerEmail: r.customer_email,
  lines: r.lines,
  state: r.state,
  outcome: r.outcome,
  paymentId: r.payment_id,
  compensations: r.compensations,
  attempts: r.attempts,
});

/** The only place with saga-log SQL. Every move is a compare-and-set on the state. */
export const sagaLog = {
  async begin(db: Db, s: { orderId: string; userId: string; customerEmail: string; lines: OrderLine[] }): Promise<Saga> {
    const [row] = await db(TABLE)
      .insert({ order_id: s.orderId, user_id: s.userId, customer_email: s.customerEmail, lines: JSON.stringify(s.lines), state: 'reserving' })
      .returning('*');
    return toSaga(row);
  },

  async find(db: Db, orderId: string): Promise<Saga | undefined> {
    const row = await db(TABLE).where({ order_id: orderId }).first();
    return row ? toSaga(row) : undefined;
  },

  /** Move from `from` to `to`; false when the saga was not in `from` any more (someone else moved it). */
  async move(
    db: Db,
    orderId: string,
    from: SagaState | SagaState[],
    to: SagaState,
    changes: { outcome?: SagaOutcome; paymentId?: string; compensations?: Compensation[]; error?: string } = {},
  ): Promise<boolean> {
    const moved = await db(TABLE)
      .where({ order_id: orderId })
      .whereIn('state', Array.isArray(from) ? from : [from])
      .update({
        state: to,
        updated_at: db.fn.now(),
        ...(changes.outcome ? { outcome: changes.outcome } : {}),
        ...(changes.paymentId ? { payment_id: changes.paymentId } : {}),
        ...(changes.compensations ? { compensations: changes.compensations } : {}),
        ...(changes.error !== undefined ? { last_error: changes.error.slice(0, 500) } : {}),
      });
    return moved > 0;
  },

  /** A compensation done: drop it from the list (idempotent). */
  async compensated(db: Db, orderId: string, done: Compensation): Promise<void> {
    await db(TABLE)
      .where({ order_id: orderId })
      .update({ compensations: db.raw('array_remove(compensations, ?)', [done]), updated_at: db.fn.now() });
  },

  /** A step failed and will be tried again by the sweep. */
  async failedAttempt(db: Db, orderId: string, error: string): Promise<void> {
    await db(TABLE)
      .where({ order_id: orderId })
      .update({ attempts: db.raw('attempts + 1'), last_error: error.slice(0, 500), updated_at: db.fn.now() });
  },

  /**
   * Unfinished sagas left alone longer than `olderThanMs`, oldest first, each claimed by touching
   * it (so two sweeps do not both take it; a live checkout's next compare-and-set still decides).
   */
  async claimStale(db: Knex, olderThanMs: number, limit: number): Promise<Saga[]> {
    const rows: SagaRow[] = await db(TABLE)
      .whereIn(
        'order_id',
        db(TABLE)
          .select('order_id')
          .whereNot('state', 'done')
          .where('updated_at', '<=', db.raw('now() - make_interval(secs => ?)', [olderThanMs / 1000]))
          .orderBy('updated_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .update({ updated_at: db.fn.now() })
      .returning('*');
    return rows.map(toSaga);
  },

  async unfinishedCounts(db: Knex): Promise<Array<{ state: SagaState; count: number }>> {
    const rows: Array<{ state: SagaState; count: string }> = await db(TABLE).whereNot('state', 'done').groupBy('state').select('state', db.raw('count(*) AS count'));
    return rows.map((r) => ({ state: r.state, count: Number(r.count) }));
  },
};

export type SagaLog = typeof sagaLog;
