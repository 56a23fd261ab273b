import { loadConfig, logEnv, port, postgresEnv, rabbitEnv, smtpEnv, z } from '@banyan/config';

export const monolithConfigSchema = z.object({
  PORT: port(3000),
  HOST: z.string().default('127.0.0.1'),
  MONOLITH_DATABASE: z.string().default('banyan_monolith'),
  ...postgresEnv,
  ...rabbitEnv,
  ...smtpEnv,
  ...logEnv,
  /** Sender of the shop's emails. */
  MAIL_FROM: z.string().default('Banyan Shop <shop@banyan.local>'),
  /** Lifetime of the JWTs the users module issues. */
  TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
});

export type MonolithConfig = z.infer<typeof monolithConfigSchema>;

export const loadMonolithConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(monolithConfigSchema, env);
