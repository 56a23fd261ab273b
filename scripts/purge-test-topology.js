#!/usr/bin/env node
/**
 * Delete the exchanges and queues that tests left on the local RabbitMQ: names under a namespace
 * made by `testNamespace` of @banyan/testing, `test-<label>-<6 hex>.` (TEST_NAME below, held to
 * the helper by packages/testing/test/namespace.test.ts). Anything else, such as a queue someone
 * named `test-orders`, is left alone. Tests namespace everything they declare and delete it when
 * they finish; this is the safety net for runs that were killed before their teardown. It matters because quorum queues
 * hold file handles: with Debian's default limit of 1024 open files, a few hundred leftover
 * queues make the broker stop accepting connections.
 *
 * `.ci/run` calls it before `npm test` (never while another test run may be using those names).
 * Lists with `rabbitmqctl` (present where RabbitMQ runs from Debian's package, as here and on CI)
 * and deletes over AMQP, or with `rabbitmqctl delete_queue` when the broker refuses new
 * connections. Without rabbitmqctl it does nothing. It never fails the run.
 */
const { execFile, execFileSync } = require('node:child_process');
const { promisify } = require('node:util');
const amqp = require('amqplib');

const run = promisify(execFile);

/** A name under a test's namespace: exactly what `testNamespace(label)` returns, then anything. */
const TEST_NAME = /^test-[a-z0-9]+(?:-[a-z0-9]+)*-[0-9a-f]{6}\./;
const isTestName = (name) => TEST_NAME.test(name);

function list(kind) {
  try {
    const out = execFileSync('rabbitmqctl', ['-q', '--no-table-headers', kind, 'name'], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n').map((l) => l.trim()).filter(isTestName);
  } catch {
    return undefined;
  }
}

async function connect(url) {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('connect timed out')), 5000).unref());
  return Promise.race([amqp.connect(url), timeout]);
}

async function viaCli(queues) {
  // The broker is out of file handles: delete through the Erlang CLI, a few at a time.
  for (let i = 0; i < queues.length; i += 8) {
    await Promise.all(queues.slice(i, i + 8).map((q) => run('rabbitmqctl', ['-q', 'delete_queue', q], { timeout: 60_000 }).catch(() => undefined)));
  }
}

async function main() {
  const queues = list('list_queues');
  if (!queues) {
    console.log('[ci] purge-test-topology: rabbitmqctl not available; nothing to do');
    return;
  }
  const exchanges = list('list_exchanges') ?? [];
  if (!queues.length && !exchanges.length) return;
  let conn;
  try {
    conn = await connect(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  } catch {
    await viaCli(queues);
    conn = await connect(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  }
  const ch = await conn.createChannel();
  for (const q of queues) await ch.deleteQueue(q);
  for (const x of exchanges) await ch.deleteExchange(x);
  await conn.close();
  console.log(`[ci] purge-test-topology: deleted ${queues.length} queues and ${exchanges.length} exchanges left by earlier test runs`);
}

module.exports = { TEST_NAME, isTestName };

if (require.main === module) {
  main().catch((err) => {
    console.error(`[ci] purge-test-topology: ${err.message}`);
  });
}
