import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testNamespace, processAlive, groupAlive, dropDatabasesWithPrefix, deleteNamespaceTopology } from '@banyan/testing';

export const ROOT = path.resolve(__dirname, '../../..');
export const WALKTHROUGH_DIR = path.join(ROOT, 'docs/walkthrough');

/** One ```sh block and the ```text block that follows it (its "you should see"), if any. */
export interface Block {
  file: string;
  line: number;
  code: string;
  /** `norun`: shown to readers, never run (long-running, or needs a second terminal). */
  run: boolean;
  /** `exit=N`: the status the block ends with; 0 unless said. */
  exit: number;
  /** `wait=N`: re-run for up to N seconds until the output matches (eventual consistency: relay, route polling). */
  waitSeconds: number;
  expected?: { text: string; line: number };
}

const FENCE = /^```(\S*)(.*)$/;

/**
 * The blocks of one page in order. A ```text fence belongs to the ```sh fence before it when no
 * other fence comes between them: prose ("You should see:") may.
 */
export function parsePage(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  let last: Block | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, lang, info] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    const text = body.join('\n');
    if (lang === 'sh') {
      const words = info.trim().split(/\s+/);
      const opt = (name: string) => words.find((w) => w.startsWith(`${name}=`))?.slice(name.length + 1);
      last = { file, line: start + 1, code: text, run: !words.includes('norun'), exit: Number(opt('exit') ?? 0), waitSeconds: Number(opt('wait') ?? 0) };
      blocks.push(last);
    } else if (lang === 'text' && last && !last.expected) {
      last.expected = { text, line: start + 1 };
      last = undefined;
    } else {
      last = undefined;
    }
  }
  return blocks;
}

export const stepFiles = () =>
  readdirSync(WALKTHROUGH_DIR)
    .filter((f) => /^\d\d-.*\.md$/.test(f))
    .sort()
    .map((f) => path.join(WALKTHROUGH_DIR, f));

/**
 * What may legitimately differ between the page and a run, and nothing else. Applied to both
 * sides before comparing:
 *   1. the test's own values (ports, database prefix, RabbitMQ namespace, temp dir) become the
 *      reader's defaults, so pages show what `npm start` shows;
 *   2. npm's own warnings are dropped (they depend on the machine's npm config);
 *   3. UUIDs → <uuid>; timestamps → <time>; hex ids of 8, 16 or 32+ digits (trace and span ids,
 *      order references) → <hex>; base64url runs of 20+ characters (tokens, cursors) → <b64>;
 *   4. decimals (durations, ages, rates) → <n>;
 *   5. runs of spaces → one space (table columns follow the widest cell).
 * On the page, `…` inside a line matches anything on that line, and a line that is only `…`
 * matches any number of lines: for what varies and is not one of the above (a relay's pid).
 */
export function normalise(text: string, substitutions: Array<[string, string]>): string {
  let out = text;
  for (const [from, to] of substitutions) out = out.split(from).join(to);
  return out
    .split('\n')
    .filter((l) => !/^npm warn /.test(l))
    .join('\n')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<time>')
    .replace(/\b(?:[0-9a-f]{32,}|[0-9a-f]{16}|[0-9a-fA-F]{8})\b/g, '<hex>')
    .replace(/[A-Za-z0-9_-]{20,}(\.[A-Za-z0-9_-]{20,}){0,2}/g, (m) => (/[0-9]/.test(m) && /[A-Za-z]/.test(m) ? '<b64>' : m))
    .replace(/\d+\.\d+/g, '<n>')
    .replace(/[ \t]+/g, ' ')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether normalised `actual` matches normalised `expected` with its `…` wildcards. */
export function matches(expected: string, actual: string): boolean {
  const pattern = expected
    .split('\n')
    .map((l) => (l.trim() === '…' ? '(?:[^\\n]*\\n)*?' : `${l.split('…').map(escape).join('[^\\n]*')}\\n`))
    .join('');
  return new RegExp(`^${pattern}$`).test(`${actual}\n`);
}

const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    // Four digits, like the defaults, so tables in the pages keep their columns.
    const candidate = 4000 + Math.floor(Math.random() * 4000);
    server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(candidate)));
  }).catch(() => freePort());

/** The reader's defaults, by the variable the test sets instead. */
const DEFAULT_PORTS: Record<string, number> = {
  PORT: 3000,
  GATEWAY_PORT: 8080,
  GATEWAY_ADMIN_PORT: 8081,
  USERS_SERVICE_PORT: 3101,
  PRODUCTS_SERVICE_PORT: 3102,
  ORDERS_SERVICE_PORT: 3103,
  PAYMENTS_SERVICE_PORT: 3104,
  NOTIFICATIONS_SERVICE_PORT: 3105,
  ANALYTICS_SERVICE_PORT: 3106,
  SMTP_PORT: 1025,
  BANYAN_MAIL_WEB_PORT: 8025,
  BANYAN_TRACES_PORT: 4318,
  RELAY_PORT: 3199,
};

export interface System {
  env: NodeJS.ProcessEnv;
  substitutions: Array<[string, string]>;
  log: string;
  tmp: string;
  stop(): Promise<void>;
}

async function waitFor(url: string, ms: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the supervisor exited (${child.exitCode}) before ${url} was ready`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready within ${ms} ms`);
}

/**
 * The whole system the way `npm start` runs it (the supervisor from packages/cli/dist), on ports,
 * databases and a RabbitMQ namespace of its own, so it never meets a developer's running system
 * or another test. `stop()` ends every process and deletes the databases and the broker topology.
 */
export async function startSystem(overrides: NodeJS.ProcessEnv = {}): Promise<System> {
  const id = randomBytes(3).toString('hex');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'banyan-walkthrough-'));
  const log = path.join(tmp, 'banyan.log');
  const ports: Record<string, number> = {};
  const used = new Set<number>(Object.values(DEFAULT_PORTS));
  for (const name of Object.keys(DEFAULT_PORTS)) {
    let p = await freePort();
    while (used.has(p)) p = await freePort();
    used.add(p);
    ports[name] = p;
  }
  const prefix = `test_walkthrough_${id}_`;
  const namespace = testNamespace('walkthrough');
  const token = `walkthrough-${randomBytes(12).toString('hex')}`;
  const password = `walkthrough-${randomBytes(6).toString('hex')}`;
  const paymentsToken = `walkthrough-payments-${randomBytes(12).toString('hex')}`;
  const url = (p: number) => `http://127.0.0.1:${p}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    BANYAN_DATABASE_PREFIX: prefix,
    BANYAN_MQ_NAMESPACE: namespace,
    BANYAN_ADMIN_TOKEN: token,
    BANYAN_ADMIN_PASSWORD: password,
    PAYMENTS_SERVICE_TOKEN: paymentsToken,
    LOG_LEVEL: 'info',
    TMPDIR: tmp,
    // What step 0 asks the reader to export.
    MONOLITH: url(ports.PORT),
    GATEWAY: url(ports.GATEWAY_PORT),
    ADMIN: url(ports.GATEWAY_ADMIN_PORT),
    MAIL: url(ports.BANYAN_MAIL_WEB_PORT),
    TRACES: url(ports.BANYAN_TRACES_PORT),
    PAYMENTS_PORT: String(ports.PAYMENTS_SERVICE_PORT),
    BANYAN_ADMIN_URL: url(ports.GATEWAY_ADMIN_PORT),
    BANYAN_GATEWAY_URL: url(ports.GATEWAY_PORT),
    BANYAN_LOG: log,
    ...overrides,
  };
  for (const k of ['NODE_OPTIONS', 'JEST_WORKER_ID', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'DATABASE_URL']) if (!(k in overrides)) delete env[k];

  const out = openSync(log, 'a');
  // Its own process group, so stop() can end the supervisor and every child it started at once.
  const child = spawn(process.execPath, [path.join(ROOT, 'packages/cli/dist/bin.js'), 'start'], { cwd: ROOT, env, stdio: ['ignore', out, out], detached: true });
  closeSync(out);

  const substitutions: Array<[string, string]> = [
    [tmp, '/tmp'],
    [prefix, ''],
    [namespace, ''],
    [token, '<token>'],
    [password, '<password>'],
    [paymentsToken, '<payments-token>'],
    // Longest first: 4-digit ports are substrings of nothing else the pages show.
    ...Object.entries(ports).map(([k, v]) => [`:${v}`, `:${DEFAULT_PORTS[k]}`] as [string, string]),
  ];

  const stop = async () => {
    await stopProcesses(child, tmp);
    await dropDatabasesWithPrefix(prefix, env);
    await deleteNamespaceTopology(namespace, env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    // Generous: on a loaded 2-core machine the seed, six processes and their topology take a while.
    await waitFor(`${url(ports.GATEWAY_ADMIN_PORT)}/readyz`, 180_000, child);
    await waitFor(`${url(ports.PORT)}/readyz`, 60_000, child);
    // The supervisor prints its summary once every process answered.
    const deadline = Date.now() + 60_000;
    while (!readFileSync(log, 'utf8').includes('Banyan is running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    // Every process answering is not enough: a newcomer reads the banner to know where to look.
    if (!readFileSync(log, 'utf8').includes('Banyan is running')) throw new Error('npm start printed no "Banyan is running" banner within 60 s of every process answering');
  } catch (err) {
    const tail = readFileSync(log, 'utf8').split('\n').slice(-40).join('\n');
    await stop();
    throw new Error(`${(err as Error).message}\n--- supervisor log (tail) ---\n${tail}`);
  }
  return { env, substitutions, log, tmp, stop };
}


async function stopProcesses(child: ChildProcess, tmp: string) {
  // Processes a page started in the background (step 5 restarts a service) leave their pid here.
  const pidFiles = existsSync(tmp) ? readdirSync(tmp).filter((f) => f.endsWith('.pid')) : [];
  const extra = pidFiles.map((f) => Number(readFileSync(path.join(tmp, f), 'utf8').trim())).filter((p) => p > 0);
  for (const pid of extra) if (processAlive(pid)) process.kill(pid, 'SIGTERM');
  if (child.pid && processAlive(child.pid)) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && groupAlive(child.pid)) await new Promise((r) => setTimeout(r, 200));
    if (groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
  }
  for (const pid of extra) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}




export interface RunResult {
  status: number;
  output: string;
}

/**
 * Run one block in a fresh bash, as a reader would in their terminal: the exported variables of
 * earlier blocks carry over (kept in a file between blocks), stderr is interleaved with stdout.
 * `cwd`: where the reader stands (docs/adopt.md's blocks run in the example project).
 */
export function runBlock(block: Block, env: NodeJS.ProcessEnv, stateFile: string, timeoutMs: number, cwd = ROOT): RunResult {
  const script = [
    `[ -f ${JSON.stringify(stateFile)} ] && source ${JSON.stringify(stateFile)}`,
    `trap 'export -p > ${JSON.stringify(stateFile)}' EXIT`,
    'exec 2>&1',
    'set -o pipefail',
    block.code,
  ].join('\n');
  const res = spawnSync('bash', ['-c', script], { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return { status: res.status ?? -1, output: `${res.stdout ?? ''}${res.error ? `\n[${res.error.message}]` : ''}` };
}
