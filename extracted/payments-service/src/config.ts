import { loadServiceConfig, serviceEnv } from '@banyan/service-kit';
import { z } from '@banyan/config';

export const paymentsServiceEnv = {
  ...serviceEnv({ port: 3104, database: 'banyan_payments' }),
  /** The credential the monolith's payments door presents (ADR 0311). */
  PAYMENTS_SERVICE_TOKEN: z.string().min(16).optional(),
  /** `npm start` gives every process the session's admin token; used when no dedicated one is set. */
  BANYAN_ADMIN_TOKEN: z.string().min(16).optional(),
};

export const loadPaymentsServiceConfig = (env: NodeJS.ProcessEnv = process.env) => loadServiceConfig(paymentsServiceEnv, env);

export type PaymentsServiceConfig = ReturnType<typeof loadPaymentsServiceConfig>;
