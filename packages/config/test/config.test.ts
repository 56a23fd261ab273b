import { ConfigError, databaseConnection, loadConfig, port, postgresEnv, rabbitEnv, z } from '@banyan/config';

const schema = z.object({ PORT: port(3000), ...postgresEnv, ...rabbitEnv, SECRET: z.string().min(16) });

describe('loadConfig', () => {
  test('When every variable is valid or defaulted, then typed values come back', () => {
    const config = loadConfig(schema, { SECRET: 'x'.repeat(16), PORT: '4000' });
    expect(config.PORT).toBe(4000);
    expect(config.PGHOST).toBe('127.0.0.1');
    expect(config.RABBITMQ_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
  });

  test('When variables are wrong, then the error names each of them and never echoes a value', () => {
    const secret = 'short-secret';
    let error: unknown;
    try {
      loadConfig(schema, { SECRET: secret, PORT: 'eighty', RABBITMQ_URL: 'http://nope' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/SECRET:/);
    expect(message).toMatch(/PORT:/);
    expect(message).toMatch(/RABBITMQ_URL:/);
    expect(message).not.toContain(secret);
  });

  test('DATABASE_URL keeps its server and credentials and swaps only the database name', () => {
    const env = loadConfig(schema, { SECRET: 'x'.repeat(16), DATABASE_URL: 'postgres://app:p%40ss@db.local:6543/whatever' });
    expect(databaseConnection(env, 'banyan_gateway')).toEqual({
      host: 'db.local',
      port: 6543,
      user: 'app',
      password: 'p@ss',
      database: 'banyan_gateway',
    });
  });
});
