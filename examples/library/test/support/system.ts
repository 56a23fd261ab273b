import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase } from '@banyan/db';
import { deleteNamespaceTopology, dropDatabasesWithPrefix, freePort, groupAlive, testConnection, testNamespace } from '@banyan/testing';
import { BANYAN, EXAMPLE } from './install';

/**
 * The library as an adopter runs it: its monolith and its books service (each with its relay and
 * sync consumer in-process), and Banyan's gateway in front, run from this checkout's
 * gateway/dist with BANYAN_MIGRATION naming the library's declaration. Ports, databases and the
 * RabbitMQ namespace are the test's own; `stop()` ends the processes and removes them.
 */
export interface LibrarySystem {
  env: NodeJS.ProcessEnv;
  gateway: string;
  admin: string;
  monolith: string;
  service: string;
  databases: { library: string; books: string };
  token: string;
  log: string;
  /** The test's own values → what a reader on the defaults sees (docs/adopt.md's outputs). */
  substitutions: Array<[string, string]>;
  /** `banyan <args>` as the adopter runs it: the installed bin, in the example's directory. */
  banyan(args: string[]): Promise<{ status: number; output: string }>;
  stop(): Promise<void>;
}

async function ready(url: string, child: ChildProcess, log: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: its process exited (${child.exitCode})\n${tail(log)}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).status < 500) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready within ${ms} ms\n${tail(log)}`);
}

const tail = (file: string) => readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');

export async function startLibrary(): Promise<LibrarySystem> {
  const id = randomBytes(3).toString('hex');
  const prefix = `test_library_${id}_`;
  const databases = { library: `${prefix}library`, books: `${prefix}books`, gateway: `${prefix}gateway` };
  const namespace = testNamespace('library');
  const token = `library-${randomBytes(12).toString('hex')}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'banyan-library-'));
  const log = path.join(tmp, 'system.log');
  const [monolithPort, servicePort, gatewayPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const url = (p: number) => `http://127.0.0.1:${p}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BANYAN_MIGRATION: path.join(EXAMPLE, 'banyan.migration.json'),
    BANYAN_ADMIN_TOKEN: token,
    BANYAN_ADMIN_URL: url(adminPort),
    BANYAN_GATEWAY_URL: url(gatewayPort),
    BANYAN_MQ_NAMESPACE: namespace,
    LIBRARY_URL: url(monolithPort),
    BOOKS_SERVICE_URL: url(servicePort),
    LIBRARY_DATABASE: databases.library,
    BOOKS_DATABASE: databases.books,
    GATEWAY_DATABASE: databases.gateway,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_ADMIN_PORT: String(adminPort),
    LOG_LEVEL: 'warn',
    // The page's temporary files (mktemp) go where stop() removes them.
    TMPDIR: tmp,
    // What docs/adopt.md asks the reader to export.
    GATEWAY: url(gatewayPort),
    // Node 24 first: `npx banyan` and the page's `node` are the toolchain's, not the machine's.
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
  };
  for (const k of ['NODE_OPTIONS', 'JEST_WORKER_ID', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'DATABASE_URL', 'PORT']) delete env[k];
  for (const database of Object.values(databases)) await ensureDatabase(testConnection(database));

  const children: ChildProcess[] = [];
  const start = (args: string[], extra: NodeJS.ProcessEnv, cwd: string) => {
    const out = openSync(log, 'a');
    const child = spawn(process.execPath, args, { cwd, env: { ...env, ...extra }, stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    children.push(child);
    return child;
  };

  const stop = async () => {
    for (const child of children) if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && children.some((c) => c.pid && groupAlive(c.pid))) await new Promise((r) => setTimeout(r, 100));
    for (const child of children) if (child.pid && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
    await dropDatabasesWithPrefix(prefix, env);
    await deleteNamespaceTopology(namespace, env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const monolith = start(['monolith/server.js'], { PORT: String(monolithPort) }, EXAMPLE);
    const service = start(['books-service/server.js'], { PORT: String(servicePort) }, EXAMPLE);
    const gateway = start([path.join(BANYAN, 'gateway/dist/main.js')], {}, BANYAN);
    await ready(`${url(monolithPort)}/healthz`, monolith, log);
    await ready(`${url(servicePort)}/healthz`, service, log);
    await ready(`${url(adminPort)}/readyz`, gateway, log);
  } catch (err) {
    await stop();
    throw err;
  }

  // Not spawnSync: the switch test runs it while its writers keep going on this event loop.
  const banyan = (args: string[]) =>
    new Promise<{ status: number; output: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(EXAMPLE, 'node_modules/@banyan/cli/bin/banyan.js'), ...args], { cwd: EXAMPLE, env, timeout: 60_000 });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('close', (code) => resolve({ status: code ?? -1, output }));
    });
  const substitutions: Array<[string, string]> = [
    [databases.library, 'library'],
    [databases.books, 'library_books'],
    [databases.gateway, 'library_gateway'],
    [namespace, ''],
    [token, '<token>'],
    [`:${monolithPort}`, ':4000'],
    [`:${servicePort}`, ':4100'],
    [`:${gatewayPort}`, ':8080'],
    [`:${adminPort}`, ':8081'],
  ];
  return { env, gateway: url(gatewayPort), admin: url(adminPort), monolith: url(monolithPort), service: url(servicePort), databases, token, log, substitutions, banyan, stop };
}
