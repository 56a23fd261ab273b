import net from 'node:net';

export interface Dependency {
  name: string;
  host: string;
  port: number;
  /** How a newcomer starts it. */
  fix: string;
}

export function tcpReachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The dependencies `npm start` needs, from the contract's environment variables. */
export function dependencies(env: NodeJS.ProcessEnv): Dependency[] {
  const pg = env.DATABASE_URL ? new URL(env.DATABASE_URL) : undefined;
  const amqp = new URL(env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  return [
    {
      name: 'PostgreSQL',
      host: pg?.hostname ?? env.PGHOST ?? '127.0.0.1',
      port: Number(pg?.port || env.PGPORT || 5432),
      fix: 'docker compose up -d postgres rabbitmq',
    },
    {
      name: 'RabbitMQ',
      host: amqp.hostname,
      port: Number(amqp.port || 5672),
      fix: 'docker compose up -d postgres rabbitmq',
    },
  ];
}

/** One line per unreachable dependency, naming what was tried and how to start it. */
export async function checkDependencies(env: NodeJS.ProcessEnv): Promise<string[]> {
  const problems: string[] = [];
  for (const dep of dependencies(env)) {
    if (!(await tcpReachable(dep.host, dep.port))) {
      problems.push(`${dep.name} is not reachable at ${dep.host}:${dep.port}; start it with: ${dep.fix}`);
    }
  }
  return problems;
}
