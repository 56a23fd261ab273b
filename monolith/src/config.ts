import { inboxEnv, loadConfig, logEnv, port, postgresEnv, rabbitEnv, smtpEnv, z } from '@banyan/config';

export const monolithConfigSchema = z.object({
  PORT: port(3000),
  HOST: z.string().default('127.0.0.1'),
  MONOLITH_DATABASE: z.string().default('banyan_monolith'),
  ...postgresEnv,
  ...rabbitEnv,
  ...inboxEnv,
  ...smtpEnv,
  ...logEnv,
  /** Sender of the shop's emails. */
  MAIL_FROM: z.string().default('Banyan Shop <shop@banyan.local>'),
  /** Lifetime of the JWTs the users module issues. */
  TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  /** Where the gateway's admin API answers; the monolith follows its routing table from there. */
  GATEWAY_ADMIN_URL: z.string().url().default('http://127.0.0.1:8081'),
  /** Without it the monolith does not watch the gateway and serves every domain itself. */
  BANYAN_ADMIN_TOKEN: z.string().min(16).optional(),
  /** The extracted payments service, called by the payments door while the domain is routed there. */
  PAYMENTS_SERVICE_URL: z.string().url().default('http://127.0.0.1:3104'),
  /** How long one call to the payments service may take before it counts as a failure. */
  PAYMENTS_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** Consecutive failures that open the payments breaker. */
  PAYMENTS_BREAKER_THRESHOLD: z.coerce.number().int().positive().default(5),
  /** How long the open breaker fails fast before one half-open probe. */
  PAYMENTS_BREAKER_RESET_MS: z.coerce.number().int().positive().default(30_000),
  /** The extracted products service, where the products door reserves stock while the domain is routed there. */
  PRODUCTS_SERVICE_URL: z.string().url().default('http://127.0.0.1:3102'),
  /** How long one call to the products service may take before it counts as a failure. */
  PRODUCTS_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** Consecutive failures that open the products breaker. */
  PRODUCTS_BREAKER_THRESHOLD: z.coerce.number().int().positive().default(5),
  /** How long the open products breaker fails fast before one half-open probe. */
  PRODUCTS_BREAKER_RESET_MS: z.coerce.number().int().positive().default(30_000),
  /** How often the orders reconciler looks for failed checkouts that may hold money. */
  ORDERS_RECONCILE_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  /** How long an order must sit in `pending`/`payment_failed` before the reconciler settles it: longer than any live checkout. */
  ORDERS_RECONCILE_AFTER_MS: z.coerce.number().int().nonnegative().default(60_000),
  /**
   * The payments door's own credential at the payments service's internal API (ADR 0311), the
   * service's PAYMENTS_SERVICE_TOKEN; never the admin token. Needed once payments is routed to
   * the service: without it the service refuses the door and checkout answers 503.
   */
  PAYMENTS_SERVICE_TOKEN: z.string().min(16).optional(),
}).refine((env) => env.PAYMENTS_SERVICE_TOKEN === undefined || env.PAYMENTS_SERVICE_TOKEN !== env.BANYAN_ADMIN_TOKEN, {
  path: ['PAYMENTS_SERVICE_TOKEN'],
  message: 'must not be BANYAN_ADMIN_TOKEN: give the payments door a credential of its own',
});

export type MonolithConfig = z.infer<typeof monolithConfigSchema>;

export const loadMonolithConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(monolithConfigSchema, env);
