import type { Principal } from '@banyan/auth';
import type { OrdersDeps } from './deps';
import { OrderErrors, type Order } from './order';

/** Someone else's order is reported as missing, so ids cannot be probed. Admins see every order. */
export async function findOrder(deps: OrdersDeps, viewer: Principal, orderId: string): Promise<Order> {
  const order = await deps.repo.find(deps.knex, orderId);
  if (!order || (order.userId !== viewer.userId && viewer.role !== 'admin')) throw OrderErrors.notFound();
  return order;
}
