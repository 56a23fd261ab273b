import { inboxEnv, loadConfig, logEnv, port, postgresEnv, rabbitEnv, z } from '@banyan/config';

/**
 * The environment every extracted service reads. `extra` adds a service's own variables
 * (e.g. SMTP for notifications) so its one zod schema still names each bad variable at start.
 */
export function serviceEnv(defaults: { port: number; database: string }) {
  return {
    PORT: port(defaults.port),
    HOST: z.string().default('127.0.0.1'),
    SERVICE_DATABASE: z.string().default(defaults.database),
    ...postgresEnv,
    ...rabbitEnv,
    ...inboxEnv,
    ...logEnv,
    /** The users domain's public keys, through the gateway so it follows wherever users is served. */
    USERS_JWKS_URL: z.string().url().default('http://127.0.0.1:8080/api/users/.well-known/jwks.json'),
    /** Run the outbox relay inside the service process (one process to operate per service). */
    SERVICE_RELAY: z.enum(['on', 'off']).default('on'),
  };
}

export type ServiceConfig = z.infer<z.ZodObject<ReturnType<typeof serviceEnv>>>;

export function loadServiceConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(z.object(shape), env);
}
