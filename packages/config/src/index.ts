import { z } from 'zod';

export { z };

/** Thrown when the environment does not satisfy a process's schema; names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: Array<{ variable: string; message: string }>) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Parse `env` with a zod object schema whose keys are the environment variable names.
 * Fails fast, naming every variable that is wrong, never echoing its value (it may be a secret).
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(root)'),
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** Common pieces, so every process spells the contract's variables the same way. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const postgresEnv = {
  DATABASE_URL: z.string().url().optional(),
  PGHOST: z.string().default('127.0.0.1'),
  PGPORT: z.coerce.number().int().positive().default(5432),
  PGUSER: z.string().default('postgres'),
  PGPASSWORD: z.string().optional(),
  /**
   * Put in front of every database name, so a second system (a test run, a walkthrough) can share
   * one PostgreSQL server with a developer's without touching their databases.
   */
  BANYAN_DATABASE_PREFIX: z.string().regex(/^[a-z0-9_]*$/, 'must be lowercase letters, digits and _').default(''),
};

export const rabbitEnv = {
  RABBITMQ_URL: z.string().regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL').default('amqp://guest:guest@127.0.0.1:5672'),
  /**
   * Put in front of every exchange and queue name (see @banyan/messaging's `names`), so a second
   * system can share one broker; empty, the names are exactly the contract's.
   */
  BANYAN_MQ_NAMESPACE: z.string().regex(/^[A-Za-z0-9_.-]*$/, 'must be letters, digits, _ . -').default(''),
};

export const smtpEnv = {
  SMTP_HOST: z.string().default('127.0.0.1'),
  SMTP_PORT: z.coerce.number().int().positive().default(1025),
};

/** Every process that consumes events keeps an inbox (packages/inbox): how long it remembers. */
export const inboxEnv = {
  /** Rows older than this are pruned; a redelivery of an event older than this would apply again (ADR 0109). */
  INBOX_RETENTION_HOURS: z.coerce.number().positive().default(336),
};

export const logEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export type PostgresEnv = { DATABASE_URL?: string; PGHOST: string; PGPORT: number; PGUSER: string; PGPASSWORD?: string; BANYAN_DATABASE_PREFIX?: string };

/**
 * The connection settings for one database of this machine's PostgreSQL. With DATABASE_URL the
 * URL's server and credentials are used and only the database name is replaced, so one
 * variable serves every process of the database-per-service layout.
 */
export function databaseConnection(env: PostgresEnv, name: string) {
  // Applied here, the one place every process and CLI command gets its connection, so no caller can forget it.
  const database = `${env.BANYAN_DATABASE_PREFIX ?? ''}${name}`;
  if (env.DATABASE_URL) {
    const url = new URL(env.DATABASE_URL);
    return {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username || 'postgres'),
      password: url.password ? decodeURIComponent(url.password) : undefined,
      database,
    };
  }
  return { host: env.PGHOST, port: env.PGPORT, user: env.PGUSER, password: env.PGPASSWORD, database };
}
