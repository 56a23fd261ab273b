import { isIP } from 'node:net';
import { ConfigError, z } from '@banyan/config';
import { loadServiceConfig, serviceEnv } from '@banyan/service-kit';
import { REREAD_MS as KEY_REREAD_MS } from './domain/signing-keys';

/** What express's `trust proxy` accepts by name, address or CIDR; never `true` nor a hop count (monolith/src/config.ts). */
const isProxyEntry = (entry: string) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
};

/**
 * The contract's port for users (3101) and its own database for accounts; the users variables
 * mean what they mean in the monolith (monolith/src/config.ts), so both sides sign, rotate and
 * throttle alike.
 */
export const usersServiceEnv = {
  ...serviceEnv({ port: 3101, database: 'banyan_users' }),
  /**
   * Where the signing keys and the throttle counts live: the monolith's database, whose users
   * schema both sides share for the length of the migration (ADR 0333). The monolith creates and
   * migrates it; the service never does. Unset: the monolith's own, MONOLITH_DATABASE.
   */
  USERS_KEY_STORE_DATABASE: z.string().optional(),
  MONOLITH_DATABASE: z.string().default('banyan_monolith'),
  TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  /** Whose X-Forwarded-For names the client the throttle counts (ADR 0331): the gateway's network where it is not loopback. */
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine(isProxyEntry, 'Use loopback, linklocal, uniquelocal, IP addresses or CIDRs, comma-separated.')).min(1)),
  USERS_THROTTLE_WINDOW_MS: z.coerce.number().int().positive().default(15 * 60_000),
  USERS_LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(10),
  USERS_LOGIN_ATTEMPTS_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  USERS_REGISTRATIONS_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  USERS_KEY_ROTATE_AFTER_MS: z.coerce.number().int().positive().default(90 * 86_400_000),
  USERS_KEY_ANNOUNCE_MS: z.coerce.number().int().min(0).default(2 * 86_400_000),
};

export type UsersServiceConfig = ReturnType<typeof loadUsersServiceConfig>;

export function loadUsersServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = loadServiceConfig(usersServiceEnv, env);
  if (config.USERS_KEY_ANNOUNCE_MS >= config.USERS_KEY_ROTATE_AFTER_MS) {
    throw new ConfigError([
      { variable: 'USERS_KEY_ANNOUNCE_MS', message: 'must be shorter than USERS_KEY_ROTATE_AFTER_MS: a successor is announced while its predecessor still signs' },
    ]);
  }
  // Two processes sign from one key store here, so a rotation the monolith starts reaches this one
  // only at its next read of the signing key (ADR 0333).
  if (config.USERS_KEY_ANNOUNCE_MS < KEY_REREAD_MS) {
    throw new ConfigError([
      { variable: 'USERS_KEY_ANNOUNCE_MS', message: `must be at least ${KEY_REREAD_MS} (how often a process reads its signing key again), or a rotation started elsewhere lets this one sign with a retired key` },
    ]);
  }
  return config;
}
