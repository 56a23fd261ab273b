import { isIP } from 'node:net';
import { inboxEnv, loadConfig, logEnv, port, postgresEnv, rabbitEnv, smtpEnv, z } from '@banyan/config';

/**
 * What express's `trust proxy` (proxy-addr) accepts by name, address or CIDR. Never `true` nor a
 * hop count: either trusts whoever connects, so any client could name its own address.
 */
const isProxyEntry = (entry: string) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
};

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
  /**
   * The proxies whose X-Forwarded-For is believed (comma-separated: `loopback`, `linklocal`,
   * `uniquelocal`, addresses, CIDRs). The client address the login and registration limits count
   * is the right-most address not in this list, so a client can only choose its own address by
   * connecting from a trusted one. Loopback by default: the gateway, which appends the address
   * it saw to X-Forwarded-For, runs on the same machine under `npm start`; where it reaches the
   * monolith over a network (compose), name that network, or every client counts as the
   * gateway's one address.
   */
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine(isProxyEntry, 'Use loopback, linklocal, uniquelocal, IP addresses or CIDRs, comma-separated.')).min(1)),
  /**
   * The users throttle's window: counts start at an account's or address's first attempt and are
   * forgotten when the window ends (Retry-After says when). 15 minutes, OWASP's usual lockout span.
   */
  USERS_THROTTLE_WINDOW_MS: z.coerce.number().int().positive().default(15 * 60_000),
  /**
   * Failed logins one account (its normalised email, existing or not) may have per window before
   * every login to it answers 429; a successful login forgets them. 10 lets a person mistype for a
   * while and holds a password guesser to 10 guesses per window, whichever address it uses.
   */
  USERS_LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(10),
  /**
   * Logins (failed or not: each costs a 16 MiB scrypt) one client address may attempt per window,
   * across all accounts. 100 per 15 minutes is ~0.1 hash/s, against the ~80/s that saturates
   * the pool, and leaves room for many people behind one NAT and for `banyan parity` runs (~35
   * logins each, all from loopback).
   */
  USERS_LOGIN_ATTEMPTS_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  /**
   * Registrations (valid bodies only: each costs a scrypt) one client address may attempt per
   * window. Bounds one source's bulk sign-ups and hash load while a `banyan parity all` run (~31
   * sign-ups from loopback) fits three times; real spam protection needs more (email
   * verification, a CAPTCHA), see ADR 0331.
   */
  USERS_REGISTRATIONS_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  /**
   * How long a token signing key signs before its successor takes over (ADR 0332). 90 days, as
   * Duende IdentityServer's automatic key management.
   */
  USERS_KEY_ROTATE_AFTER_MS: z.coerce.number().int().positive().default(90 * 86_400_000),
  /**
   * How long a successor is published in the JWKS before it signs, so every verifier's cached key
   * set holds it first (services cache the JWKS up to 10 minutes). Two days.
   */
  USERS_KEY_ANNOUNCE_MS: z.coerce.number().int().min(0).default(2 * 86_400_000),
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
  /**
   * The extracted orders service's credential at the monolith's internal stock door (ADR 0314),
   * the orders service's PRODUCTS_SERVICE_TOKEN. Unset, the door takes only `service` tokens.
   */
  PRODUCTS_SERVICE_TOKEN: z.string().min(16).optional(),
}).refine((env) => env.USERS_KEY_ANNOUNCE_MS < env.USERS_KEY_ROTATE_AFTER_MS, {
  message: 'must be shorter than USERS_KEY_ROTATE_AFTER_MS: a successor is announced while its predecessor still signs',
  path: ['USERS_KEY_ANNOUNCE_MS'],
}).refine((env) => env.PAYMENTS_SERVICE_TOKEN === undefined || env.PAYMENTS_SERVICE_TOKEN !== env.BANYAN_ADMIN_TOKEN, {
  path: ['PAYMENTS_SERVICE_TOKEN'],
  message: 'must not be BANYAN_ADMIN_TOKEN: give the payments door a credential of its own',
});

export type MonolithConfig = z.infer<typeof monolithConfigSchema>;

export const loadMonolithConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(monolithConfigSchema, env);
