import { loadConfig, logEnv, port, postgresEnv, rabbitEnv, z } from '@banyan/config';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const relayConfigSchema = z.object({
  /** The database whose outbox this relay drains. */
  RELAY_DATABASE: z.string().min(1).default('banyan_monolith'),
  ...postgresEnv,
  ...rabbitEnv,
  ...logEnv,
  RELAY_BATCH_SIZE: positiveInt(500),
  /** Batches published and not yet marked (ADR 0106, 0107); after a crash up to this many are re-sent. */
  RELAY_BATCHES_IN_FLIGHT: positiveInt(2),
  RELAY_POLL_INTERVAL_MS: positiveInt(1_000),
  RELAY_LEASE_TTL_MS: positiveInt(10_000),
  RELAY_CONFIRM_TIMEOUT_MS: positiveInt(10_000),
  RELAY_HEARTBEAT_SECONDS: positiveInt(5),
  RELAY_PARK_AFTER_ATTEMPTS: positiveInt(10),
  RELAY_RETRY_DELAY_MS: positiveInt(1_000),
  RELAY_RETENTION_HOURS: z.coerce.number().positive().default(168),
  RELAY_CLEANUP_INTERVAL_MS: positiveInt(60_000),
  /** Size of the event history stream (ADR 0110); 0 declares none. */
  RELAY_HISTORY_MAX_GB: z.coerce.number().nonnegative().default(20),
  /** Exchange name prefix, for running a second system on a shared broker; defaults to BANYAN_MQ_NAMESPACE. */
  RELAY_NAMESPACE: z.string().default(''),
  /** /healthz, /readyz and /metrics. Loopback by default: probes and scrapes run beside it. */
  RELAY_PORT: port(3199),
  RELAY_HOST: z.string().default('127.0.0.1'),
});

export type RelayConfig = z.infer<typeof relayConfigSchema>;

// The system-wide namespace is the default, so a relay started with its neighbours publishes where they consume.
export const loadRelayConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(relayConfigSchema, { RELAY_NAMESPACE: env.BANYAN_MQ_NAMESPACE, ...env });
