import type { Principal } from '@banyan/auth';
import type { Knex } from '@banyan/db';
import { paymentsRepository as repo } from '../data/repository';
import { PaymentErrors, type Payment } from './payment';

/** The payer and admins may see a payment; anyone else is told it does not exist. */
export async function findPayment(knex: Knex, viewer: Principal, by: { id: string } | { orderId: string }): Promise<Payment> {
  const payment = 'id' in by ? await repo.byId(knex, by.id) : await repo.byOrder(knex, by.orderId);
  if (!payment || (payment.userId !== viewer.userId && viewer.role !== 'admin')) throw PaymentErrors.notFound();
  return payment;
}
