'use strict';
/**
 * npm run bench:gateway — one run, on 127.0.0.1 only, bounded in time (about two minutes):
 * the upstream direct (the limit), nginx (when installed), a naive express +
 * http-proxy-middleware gateway, and Banyan in monolith and canary 50 modes (with the
 * OpenTelemetry preload at its default sampling when @banyan/telemetry is built).
 *
 * Throughput: autocannon, 50 connections, for DURATION s after a warm-up. Added latency: an
 * open-loop generator at a fixed 1,000 requests/s measuring each request with hrtime (autocannon's
 * histogram has 1 ms resolution, too coarse for a 2 ms budget). RSS: the proxy's peak (VmHWM).
 */
const { fork, spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const FIXED_RATE = 1000;
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_SECONDS ?? 5);
const PATH = '/api/products/0190a3b4-7c1d-7000-8000-000000000001';
const TOKEN = 'bench-admin-token-0123456789abcdef';
const PORTS = { upstream: 18000, upstream2: 18001, nginx: 18010, naive: 18020, banyan: 18030, admin: 18031 };
const children = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function start(file, args, options = {}) {
  const child = fork(path.join(__dirname, file), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...options });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in 30 s`)), 30_000);
    child.once('message', () => (clearTimeout(timer), resolve(child)));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const file = path.join(dir, cmd);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

async function startNginx() {
  const bin = which('nginx');
  if (!bin) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'banyan-bench-nginx-'));
  fs.mkdirSync(path.join(dir, 'logs'));
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS.nginx};
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
  children.push(child);
  for (let i = 0; i < 50; i++) {
    if (await reachable(PORTS.nginx)) return child;
    await sleep(100);
  }
  throw new Error('nginx did not start');
}

function reachable(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: PATH, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** Per-connection tokens with different subjects, so canary traffic really splits between sides. */
function tokenFor(i) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'ES256' })}.${b64({ sub: `bench-user-${i}` })}.sig`;
}

async function throughput(port) {
  let n = 0;
  const opts = {
    url: `http://127.0.0.1:${port}${PATH}`,
    connections: 50,
    setupClient: (client) => client.setHeaders({ authorization: `Bearer ${tokenFor(n++)}` }),
  };
  await autocannon({ ...opts, duration: 2 });
  const result = await autocannon({ ...opts, duration: DURATION });
  return { rps: result.requests.average, errors: result.errors + result.non2xx };
}

/** Open loop: requests are sent on schedule whether or not earlier ones have returned. */
async function fixedRate(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies = [];
  let errors = 0;
  const total = FIXED_RATE * FIXED_SECONDS;
  const started = process.hrtime.bigint();
  let sent = 0;
  const inflight = new Set();
  const one = (i) =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.get({ host: '127.0.0.1', port, path: PATH, agent, headers: { authorization: `Bearer ${tokenFor(i % 50)}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => (errors++, resolve()));
    });
  while (sent < total) {
    const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - started) / 1e9) * FIXED_RATE));
    for (; sent < due; sent++) {
      const p = one(sent);
      inflight.add(p);
      p.then(() => inflight.delete(p));
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { p50: pct(50), p99: pct(99), errors };
}

function rssMb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

async function setRoute(mode, percent) {
  const res = await fetch(`http://127.0.0.1:${PORTS.admin}/routes/products`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(percent === undefined ? { mode } : { mode, percent }),
  });
  if (!res.ok) throw new Error(`route products ${mode}: ${res.status} ${await res.text()}`);
}

const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

async function main() {
  console.log(`Gateway benchmark · ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}) · node ${process.version} · ${new Date().toISOString()}`);
  console.log(`Load average before the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes share these cores)`);
  console.log(`Upstream: 127.0.0.1, ${PATH} → 200, ~110-byte JSON. autocannon ${DURATION}s × 50 connections; latency at a fixed ${FIXED_RATE} req/s for ${FIXED_SECONDS}s.\n`);
  await start('upstream.js', [String(PORTS.upstream), String(PORTS.upstream2)]);

  const rows = [];
  const measure = async (name, port, pid) => {
    const t = await throughput(port);
    const l = await fixedRate(port);
    const mem = pid ? rssMb(pid) : { rss: NaN, peak: NaN };
    rows.push({ name, ...t, ...l, ...mem });
    console.log(`  measured ${name}: ${Math.round(t.rps)} req/s`);
  };

  await measure('upstream direct', PORTS.upstream);

  const nginx = await startNginx();
  if (nginx) {
    // nginx's workers are its children: report the largest worker's RSS.
    const workers = execFileSync('pgrep', ['-P', String(nginx.pid)]).toString().trim().split('\n').map(Number);
    await measure('nginx', PORTS.nginx, workers[0]);
    nginx.kill('SIGQUIT');
  } else {
    console.log('nginx: not installed (apt-get install -y nginx-light to include it)');
  }

  const naive = await start('naive.js', [String(PORTS.naive), `http://127.0.0.1:${PORTS.upstream}`]);
  await measure('naive express + hpm', PORTS.naive, naive.pid);
  naive.kill();

  const telemetry = (() => {
    try {
      return require.resolve('@banyan/telemetry/register');
    } catch {
      return undefined;
    }
  })();
  const env = {
    ...process.env,
    BANYAN_ADMIN_TOKEN: TOKEN,
    GATEWAY_PORT: String(PORTS.banyan),
    GATEWAY_ADMIN_PORT: String(PORTS.admin),
    GATEWAY_DATABASE: 'banyan_bench_gateway',
    MONOLITH_URL: `http://127.0.0.1:${PORTS.upstream}`,
    PRODUCTS_SERVICE_URL: `http://127.0.0.1:${PORTS.upstream2}`,
    OTEL_SERVICE_NAME: 'banyan-gateway-bench',
  };
  const banyan = await start('banyan.js', [], { env, execArgv: telemetry ? ['-r', telemetry] : [] });
  console.log(`  banyan: tracing ${telemetry ? 'on (@banyan/telemetry preload, default sampler, no exporter endpoint set)' : 'off (@banyan/telemetry/register not built)'}`);
  await setRoute('monolith');
  await measure('banyan monolith', PORTS.banyan, banyan.pid);
  await setRoute('canary', 50);
  await measure('banyan canary 50', PORTS.banyan, banyan.pid);
  await setRoute('monolith');
  banyan.kill();

  // The same gateway without the tracing preload, to show what tracing itself costs.
  if (telemetry) {
    const plain = await start('banyan.js', [], { env });
    await measure('banyan monolith, tracing off', PORTS.banyan, plain.pid);
    plain.kill();
  }

  const direct = rows[0];
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  console.log('\n| target | req/s | × upstream | p50 @1k/s (ms) | p99 @1k/s (ms) | added p50 (ms) | added p99 (ms) | peak RSS (MB) | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const added = r === direct ? ['—', '—'] : [f2(r.p50 - direct.p50), f2(r.p99 - direct.p99)];
    console.log(`| ${r.name} | ${Math.round(r.rps)} | ${f2(r.rps / direct.rps)} | ${f2(r.p50)} | ${f2(r.p99)} | ${added[0]} | ${added[1]} | ${f1(r.peak)} | ${r.errors} |`);
  }

  const goals = [];
  for (const mode of ['banyan monolith', 'banyan canary 50']) {
    const b = byName[mode];
    const nginxRow = byName.nginx;
    if (nginxRow) goals.push([`${mode} ≥ 0.4 × nginx`, b.rps / nginxRow.rps, 0.4, b.rps / nginxRow.rps >= 0.4]);
    goals.push([`${mode} ≥ 3 × naive`, b.rps / byName['naive express + hpm'].rps, 3, b.rps / byName['naive express + hpm'].rps >= 3]);
    goals.push([`${mode} added p99 ≤ 2 ms at 1,000 req/s`, b.p99 - direct.p99, 2, b.p99 - direct.p99 <= 2]);
    goals.push([`${mode} RSS ≤ 150 MB`, b.peak, 150, b.peak <= 150]);
  }
  console.log('\nGoals:');
  for (const [name, value, , met] of goals) console.log(`  ${met ? 'met    ' : 'NOT MET'}  ${name} (${f2(value)})`);
}

main()
  .catch((err) => {
    console.error(`bench:gateway failed: ${err.stack ?? err}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill();
  });
