import type { Module, ModuleContext } from '../../kernel';
import type { PaymentsApi } from '../payments';
import type { ProductsApi } from '../products';
import { ORDERS_SCHEMA, migrations } from './data/migrations';
import type { OrdersDeps } from './domain/deps';
import type { Order, OrderItem, OrderStatus } from './domain/order';
import { orderEvents } from './events/publish';
import { ordersRouter } from './http/routes';

export type { Order, OrderItem, OrderStatus };

/** Other modules learn about orders from `order.*` events; nothing calls into orders yet. */
export type OrdersApi = Record<string, never>;

export function createOrdersModule(ctx: ModuleContext, doors: { products: ProductsApi; payments: PaymentsApi }): Module<OrdersApi> {
  const deps: OrdersDeps = { knex: ctx.knex, events: orderEvents(ctx.outbox), ...doors };
  return {
    name: 'orders',
    schema: { schema: ORDERS_SCHEMA, migrations },
    router: ordersRouter(deps, ctx.verifier),
    subscriptions: [],
    api: {},
  };
}
