import { execFileSync } from 'node:child_process';
import amqp from 'amqplib';
import { Client } from 'pg';

/**
 * Drop every database whose name starts with `prefix`: what a whole system started by a test
 * (`banyan start` with BANYAN_DATABASE_PREFIX) created, with the connections still open to it.
 */
export async function dropDatabasesWithPrefix(prefix: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const client = new Client({ host: env.PGHOST ?? '127.0.0.1', port: Number(env.PGPORT ?? 5432), user: env.PGUSER ?? 'postgres', password: env.PGPASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * Delete every queue and exchange of a test namespace: listed by rabbitmqctl (AMQP cannot list),
 * deleted over AMQP. Without rabbitmqctl nothing is listed, and CI's purge-test-topology deletes
 * the `test-…` names (testNamespace's shape) before the next run.
 */
export async function deleteNamespaceTopology(namespace: string, rabbitUrl = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'): Promise<void> {
  const list = (kind: string) => {
    try {
      return execFileSync('rabbitmqctl', ['-q', '--no-table-headers', kind, 'name'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .map((l) => l.trim())
        .filter((n) => n.startsWith(namespace));
    } catch {
      return [];
    }
  };
  const queues = list('list_queues');
  const exchanges = list('list_exchanges');
  if (!queues.length && !exchanges.length) return;
  const connection = await amqp.connect(rabbitUrl);
  try {
    const channel = await connection.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    for (const x of exchanges) await channel.deleteExchange(x);
  } finally {
    await connection.close();
  }
}
