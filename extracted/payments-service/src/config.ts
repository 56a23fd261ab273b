import { loadConfig, z } from '@banyan/config';
import { serviceEnv } from '@banyan/service-kit';

export const paymentsServiceEnv = {
  ...serviceEnv({ port: 3104, database: 'banyan_payments' }),
  /**
   * The credential the monolith's payments door presents at POST /charges, /refunds and
   * /cancellations (ADR 0311): the door's own, shared with nothing else. Required: without it
   * the service could charge for no one. `npm start` generates one per session.
   */
  PAYMENTS_SERVICE_TOKEN: z
    .string({ error: "is required: the credential the monolith's payments door presents (its PAYMENTS_SERVICE_TOKEN too), a random secret of at least 16 characters (e.g. `openssl rand -hex 24`)" })
    .min(16, 'must be at least 16 characters long'),
  /**
   * Read only to be refused as the caller credential: `npm start` gives every process the
   * session's admin token, and a PAYMENTS_SERVICE_TOKEN equal to it would let whoever holds the
   * admin API's token charge and refund too.
   */
  BANYAN_ADMIN_TOKEN: z.string().optional(),
};

const paymentsServiceSchema = z.object(paymentsServiceEnv).refine((env) => env.PAYMENTS_SERVICE_TOKEN !== env.BANYAN_ADMIN_TOKEN, {
  path: ['PAYMENTS_SERVICE_TOKEN'],
  message: 'must not be BANYAN_ADMIN_TOKEN: give the payments door a credential of its own',
});

export const loadPaymentsServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(paymentsServiceSchema, env);

export type PaymentsServiceConfig = ReturnType<typeof loadPaymentsServiceConfig>;
