import { loadConfig, logEnv, port, postgresEnv, z } from '@banyan/config';

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const gatewayConfigSchema = z.object({
  GATEWAY_PORT: port(8080),
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_ADMIN_PORT: port(8081),
  /** The admin API changes where traffic goes: loopback only unless an operator decides otherwise. */
  GATEWAY_ADMIN_HOST: z.string().default('127.0.0.1'),
  BANYAN_ADMIN_TOKEN: z
    .string({ error: 'is required: set it to a random secret of at least 16 characters (e.g. `openssl rand -hex 24`)' })
    .min(16, 'must be at least 16 characters long'),
  GATEWAY_DATABASE: z.string().default('banyan_gateway'),
  // Where the monolith and each domain's service answer, and their databases, are the migration's
  // declaration's (banyan.migration.ts, or the file BANYAN_MIGRATION names): its `urlEnv` and
  // `databaseEnv` name the variables that override them (the shop's MONOLITH_URL,
  // PRODUCTS_SERVICE_URL, PRODUCTS_DATABASE …), and @banyan/migration validates their values.
  /** Where tester/admin JWTs are verified; defaults to the monolith's users module. */
  GATEWAY_JWKS_URL: z.string().url().optional(),
  /** From sending the request to the upstream's response headers (and between body chunks). */
  GATEWAY_UPSTREAM_TIMEOUT_MS: ms(10_000),
  GATEWAY_MAX_SOCKETS: z.coerce.number().int().positive().default(256),
  /**
   * How long a request may wait for one of those sockets before it is answered 503 with
   * Retry-After, instead of queueing without bound behind the others (issue 10).
   */
  GATEWAY_SOCKET_WAIT_MS: ms(2_000),
  /** The largest request body the gateway takes (413 beyond): the contract's 1 MiB. */
  GATEWAY_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
  /** The whole body must arrive within this time after the headers (408 after; ADR 0210). */
  GATEWAY_BODY_TIMEOUT_MS: ms(10_000),
  /** All of a request's headers within this time (slowloris; 408 after). */
  GATEWAY_HEADERS_TIMEOUT_MS: ms(10_000),
  /** The whole request within this time: node:http's backstop behind the two above. */
  GATEWAY_REQUEST_TIMEOUT_MS: ms(30_000),
  /** An idle kept-alive client connection is closed after this. */
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: ms(5_000),
  /** Request line and headers together (431 beyond); node:http's default. */
  GATEWAY_MAX_HEADER_BYTES: z.coerce.number().int().min(1_024).max(1_048_576).default(16_384),
  /**
   * Open connections from one client address (the next is closed unread); 0 turns the cap off,
   * as it must be behind a load balancer that does not keep client addresses.
   */
  GATEWAY_MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(0).default(256),
  GATEWAY_BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  /** Requests in the rolling window before the breaker may open, so one early failure does not trip it. */
  GATEWAY_BREAKER_VOLUME: z.coerce.number().int().min(1).default(10),
  GATEWAY_BREAKER_WINDOW_MS: ms(10_000),
  GATEWAY_BREAKER_RESET_MS: ms(10_000),
  GATEWAY_SHADOW_NOISE: z.stringbool().default(false),
  GATEWAY_SHADOW_MAX_MISMATCHES: z.coerce.number().int().min(1).max(10_000).default(50),
  GATEWAY_SHADOW_CONCURRENCY: z.coerce.number().int().min(1).default(64),
  /** Safety net behind LISTEN/NOTIFY: a lost notification is picked up at the next poll. */
  GATEWAY_ROUTES_POLL_MS: ms(5_000),
  /**
   * The write fence of a switch (ADR 0303), its fallback only: the fence waits until the new
   * side's sequence counters show it applied what the old side published, and waits this long
   * instead where those counters cannot be read (a domain without a sync spec, a new side
   * without a database or outbox)…
   */
  GATEWAY_SWITCH_SETTLE_MS: z.coerce.number().int().min(0).default(300),
  /** …and the longest a write is held whatever happens (then it proceeds, logged and counted). */
  GATEWAY_SWITCH_FENCE_MAX_MS: ms(5_000),
  /**
   * Preflight of a switch (docs/gateway.md#preflight): how long each target has to answer
   * /readyz, the most its sync may lag behind the side it leaves, and how old the domain's last
   * verify may be (0: any age, and a domain never verified passes, said so in the result).
   */
  GATEWAY_PREFLIGHT_TIMEOUT_MS: ms(2_000),
  GATEWAY_PREFLIGHT_MAX_LAG_MS: ms(5_000),
  GATEWAY_PREFLIGHT_VERIFY_MAX_AGE_MS: z.coerce.number().int().min(0).default(0),
  /**
   * Ramps: how often the driving instance evaluates a ramp's gates (a failing gate rolls back
   * within one tick), and how long its lease lasts without renewal before another instance
   * takes the ramp over.
   */
  GATEWAY_RAMP_TICK_MS: ms(1_000),
  /** The dashboard's charts: how often the last hour's counters are sampled per domain. */
  GATEWAY_DASHBOARD_SAMPLE_MS: ms(30_000),
  GATEWAY_RAMP_LEASE_MS: ms(5_000),
  GATEWAY_STICKY_COOKIE: z.string().regex(/^[A-Za-z0-9_-]+$/).default('banyan_sticky'),
  /**
   * Canary: after a user's write to a domain, how long their reads of it stay with the writer
   * (the monolith) so they see their own change; 0 turns it off (ADR 0304).
   */
  GATEWAY_READ_YOUR_WRITES_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /**
   * The databases whose outbox the dashboard shows (comma-separated). Unset: the monolith's and
   * each extracted domain's, as the declaration resolves them.
   */
  GATEWAY_OUTBOX_DATABASES: z
    .string()
    .regex(/^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$/, 'must be database names separated by commas')
    .optional(),
  ...postgresEnv,
  ...logEnv,
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(gatewayConfigSchema, env);
