import type { Principal } from '@banyan/auth';
import type { PaymentsDeps } from './deps';
import { PaymentErrors, type Payment } from './payment';

/** The payer and admins may see a payment; anyone else is told it does not exist. */
export async function findPayment(deps: Pick<PaymentsDeps, 'knex' | 'repo'>, viewer: Principal, by: { id: string } | { orderId: string }): Promise<Payment> {
  const payment = 'id' in by ? await deps.repo.byId(deps.knex, by.id) : await deps.repo.byOrder(deps.knex, by.orderId);
  if (!payment || (payment.userId !== viewer.userId && viewer.role !== 'admin')) throw PaymentErrors.notFound();
  return payment;
}
