'use strict';
/**
 * npm run bench:gateway — one run, on 127.0.0.1 only, stopped after at most LIMIT_S seconds:
 * the upstream direct (the limit), nginx (when installed), the Node floor (a bare node:http
 * keep-alive proxy, floor.js), a naive express +
 * http-proxy-middleware gateway, Banyan in monolith and canary 50 modes with tracing at its
 * default sampling, and Banyan with tracing at 100 %, with tracing off, and with the http
 * instrumentation left on (a launcher that forgot OTEL_NODE_DISABLED_INSTRUMENTATIONS=http).
 *
 * Throughput: autocannon in a process of its own (load.js), 50 connections, after a warm-up.
 * The four Banyan variants run side by side and are measured in ROUNDS interleaved rounds
 * (medians reported), so the tracing comparison is not decided by a neighbour's burst.
 * Added latency: an open-loop generator at a fixed 1,000 req/s, in ROUNDS rounds; each round
 * measures the upstream direct and then the proxy, "added" is the proxy's percentile minus the
 * upstream's of the same round, and the median over rounds is reported. The upstream's own
 * round-to-round range is the noise floor: an added value inside it is reported as such, never
 * as a goal met. CPU: the proxy's user+system time during the throughput run divided by the
 * requests answered, which a shared machine disturbs far less than req/s. RSS: peak (VmHWM).
 */
const { spawn, execFileSync } = require('node:child_process');
const { TOKEN, gatewayEnv, startChild } = require('./processes');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const LIMIT_S = 420;
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = 2;
const CONNECTIONS = 50;
const FIXED_RATE = 1000;
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FIXED_WARMUP = 0.5;
const ADDED_P99_GOAL_MS = 2;
const PATH = '/api/products/0190a3b4-7c1d-7000-8000-000000000001';
const PORTS = { upstream: 18000, upstream2: 18001, nginx: 18010, naive: 18020, floor: 18025, banyan: 18030, admin: 18031 };
const FLOOR_GOAL = 0.8;
const BUFFERING_GOAL = 0.1;
/** A small JSON body (~100 bytes) for the POST rows: what taking each body whole costs. */
const SMALL_BODY = JSON.stringify({ items: [{ productId: '0190a3b4-7c1d-7000-8000-000000000001', quantity: 2 }], note: 'bench' });
const TICK_S = 1 / 100; // /proc/<pid>/stat counts in clock ticks (USER_HZ, 100 on Linux)
const children = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const start = (file, args, options = {}) => startChild(file, args, options, children);

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill();
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

/** One job on the load generator's process; `onMeasuring` fires when the warm-up is over. */
function job(load, spec, onMeasuring) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m.event === 'measuring') return onMeasuring?.();
      load.off('message', onMessage);
      if (m.event === 'done') resolve(m.result);
      else reject(new Error(`load generator: ${m.error}`));
    };
    load.on('message', onMessage);
    load.send(spec);
  });
}

/** user+system CPU seconds of these processes so far. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      return NaN;
    }
  }
  return ticks * TICK_S;
}

function peakRssMb(pids) {
  let peak = NaN;
  for (const pid of pids) {
    try {
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      peak = Number.isNaN(peak) ? kb / 1024 : Math.max(peak, kb / 1024);
    } catch {
      // the process is gone
    }
  }
  return peak;
}

async function setRoute(mode, percent, adminPort) {
  const res = await fetch(`http://127.0.0.1:${adminPort}/routes/products`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(percent === undefined ? { mode } : { mode, percent }),
  });
  if (!res.ok) throw new Error(`route products ${mode}: ${res.status} ${await res.text()}`);
}

/** Wait until every variant answers in `mode` (the routing table reaches each instance by NOTIFY). */
async function routedAs(mode, variants) {
  for (const v of variants) {
    for (let i = 0; ; i++) {
      const route = await new Promise((resolve) => {
        http.get({ host: '127.0.0.1', port: v.port, path: PATH, agent: false }, (res) => (res.resume(), resolve(String(res.headers['x-banyan-route'])))).on('error', () => resolve(''));
      });
      if (route.includes(`mode=${mode}`)) break;
      if (i > 50) throw new Error(`${v.name ?? v.port} still not in ${mode} mode: ${route}`);
      await sleep(100);
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs) => Math.max(...xs) - Math.min(...xs);
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

async function main() {
  const began = Date.now();
  const cpus = os.cpus();
  console.log(`Gateway benchmark · ${cpus.length} cores (${cpus[0]?.model.trim()}) · node ${process.version} · ${new Date().toISOString()}`);
  console.log(`Load average before the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    `The load generator (its own process), the proxy and the upstream share these ${cpus.length} cores: absolute figures are bounded by that, and nginx runs ${cpus.length} worker processes where each Node proxy has one event loop.`,
  );
  console.log(
    `Upstream: 127.0.0.1, ${PATH} → 200, ~110-byte JSON. Throughput: autocannon ${DURATION}s × ${CONNECTIONS} connections after ${WARMUP}s of warm-up. Latency: open loop at ${FIXED_RATE} req/s, ${ROUNDS} rounds × ${FIXED_SECONDS}s (after ${FIXED_WARMUP}s at the same rate, not counted), each round upstream then proxy; medians of the rounds.\n`,
  );
  const upstream = await start('upstream.js', [String(PORTS.upstream), String(PORTS.upstream2)]);
  const load = await start('load.js', []);

  const rows = [];
  const fixed = (port) => job(load, { kind: 'fixed', port, path: PATH, rate: FIXED_RATE, seconds: FIXED_SECONDS, warmup: FIXED_WARMUP });

  const throughputOf = async (port, pids, warmup = WARMUP, body = undefined) => {
    let cpu0 = NaN;
    const t = await job(load, { kind: 'throughput', port, path: PATH, connections: CONNECTIONS, seconds: DURATION, warmup, body }, () => (cpu0 = cpuSeconds(pids)));
    return { rps: t.rps, errors: t.errors, cpuPerRequest: ((cpuSeconds(pids) - cpu0) / t.requests) * 1e6 };
  };
  const latencyRounds = async (row, port) => {
    for (let r = 0; r < ROUNDS; r++) {
      const base = port === PORTS.upstream ? undefined : await fixed(PORTS.upstream);
      const own = await fixed(port);
      row.rounds.push({ base, own });
      row.errors += own.errors;
    }
  };
  const measure = async (name, port, pids) => {
    const row = { name, ...(await throughputOf(port, pids)), rounds: [] };
    await latencyRounds(row, port);
    row.peak = peakRssMb(pids);
    rows.push(row);
    console.log(`  measured ${name}: ${Math.round(row.rps)} req/s, ${f1(row.cpuPerRequest)} µs CPU/request`);
    return row;
  };

  await measure('upstream direct', PORTS.upstream, [upstream.pid]);

  const nginx = await startNginx();
  if (nginx) {
    const workers = execFileSync('pgrep', ['-P', String(nginx.pid)]).toString().trim().split('\n').map(Number);
    await measure('nginx', PORTS.nginx, [nginx.pid, ...workers]);
    nginx.kill('SIGQUIT');
  } else {
    console.log('  nginx: not installed (apt-get install -y nginx-light to include it)');
  }

  const floor = await start('floor.js', [String(PORTS.floor), `http://127.0.0.1:${PORTS.upstream}`]);
  await measure('node:http floor', PORTS.floor, [floor.pid]);

  const naive = await start('naive.js', [String(PORTS.naive), `http://127.0.0.1:${PORTS.upstream}`]);
  await measure('naive express + hpm', PORTS.naive, [naive.pid]);
  await stop(naive);

  const telemetry = (() => {
    try {
      return require.resolve('@banyan/telemetry/register');
    } catch {
      return undefined;
    }
  })();
  if (!telemetry) console.log('  @banyan/telemetry/register is not built: every Banyan line runs without tracing');
  const base = {
    ...gatewayEnv({ port: PORTS.banyan, adminPort: PORTS.admin, monolith: `http://127.0.0.1:${PORTS.upstream}`, products: `http://127.0.0.1:${PORTS.upstream2}` }),
    OTEL_SERVICE_NAME: 'banyan-gateway-bench',
  };
  for (const name of ['OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_SDK_DISABLED', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_NODE_DISABLED_INSTRUMENTATIONS', 'OTEL_NODE_ENABLED_INSTRUMENTATIONS']) delete base[name];
  // As the gateway is launched (its package's start script): the preload, with the http
  // instrumentation off because the gateway traces its own hop (ADR 0208).
  const shipped = { ...base, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http' };
  // The variants run side by side (own ports, one routing database) and are measured in
  // interleaved rounds, so a neighbour's burst on this shared machine hits all of them alike
  // instead of deciding which one looks cheaper.
  const variants = [
    { name: 'banyan monolith', label: 'tracing at the default sampling (parentbased_traceidratio 0.1), no exporter endpoint', env: shipped },
    { name: 'banyan monolith, tracing 100 %', label: 'OTEL_TRACES_SAMPLER=always_on', env: { ...shipped, OTEL_TRACES_SAMPLER: 'always_on' } },
    { name: 'banyan monolith, tracing off', label: 'OTEL_SDK_DISABLED=true, no preload', env: { ...base, OTEL_SDK_DISABLED: 'true' } },
    { name: 'banyan monolith, http instrumentation on', label: 'default sampling, OTEL_NODE_DISABLED_INSTRUMENTATIONS unset', env: base },
  ];
  for (const [i, v] of variants.entries()) {
    v.port = PORTS.banyan + 2 * i;
    v.admin = PORTS.admin + 2 * i;
    v.child = await start('banyan.js', [], {
      env: { ...v.env, GATEWAY_PORT: String(v.port), GATEWAY_ADMIN_PORT: String(v.admin) },
      // As every launcher runs it: an 8 MiB young generation (ADR 0211), then the preload.
      execArgv: ['--max-semi-space-size=8', ...(telemetry && v.env.OTEL_SDK_DISABLED !== 'true' ? ['-r', telemetry] : [])],
    });
    // An admin request, as a running gateway gets them: with the http instrumentation on, the
    // first traced request switches AsyncLocalStorage's promise hooks on for good.
    await setRoute('monolith', undefined, v.admin);
    console.log(`  ${v.name}: ${v.label}`);
  }
  await routedAs('monolith', variants);
  const banyan = variants[0];
  for (const v of variants) v.row = { name: v.name, rps: NaN, errors: 0, cpuPerRequest: NaN, rounds: [], samples: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts with a different variant, so none is always the one measured first.
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(r + k) % variants.length];
      v.row.samples.push(await throughputOf(v.port, [v.child.pid], 1));
    }
  }
  for (const v of variants) {
    v.row.rps = median(v.row.samples.map((x) => x.rps));
    v.row.cpuPerRequest = median(v.row.samples.map((x) => x.cpuPerRequest));
    v.row.errors = v.row.samples.reduce((n, x) => n + x.errors, 0);
  }
  await latencyRounds(banyan.row, banyan.port);
  // Small POST bodies, the floor (streams them through) and Banyan (takes each whole, ADR 0210)
  // in interleaved rounds: Banyan's POST ÷ GET ratio against the floor's is what buffering costs.
  const posts = { floor: [], banyan: [] };
  for (let r = 0; r < ROUNDS; r++) {
    posts.floor.push(await throughputOf(PORTS.floor, [floor.pid], 1, SMALL_BODY));
    posts.banyan.push(await throughputOf(banyan.port, [banyan.child.pid], 1, SMALL_BODY));
  }
  await stop(floor);
  for (const [name, samples] of [['node:http floor, POST small body', posts.floor], ['banyan monolith, POST small body', posts.banyan]]) {
    const row = { name, rps: median(samples.map((x) => x.rps)), cpuPerRequest: median(samples.map((x) => x.cpuPerRequest)), errors: samples.reduce((n, x) => n + x.errors, 0), rounds: [], peak: NaN };
    rows.push(row);
    console.log(`  measured ${name}: ${Math.round(row.rps)} req/s, ${f1(row.cpuPerRequest)} µs CPU/request (medians of ${ROUNDS} interleaved rounds)`);
  }
  for (const v of variants) {
    v.row.peak = peakRssMb([v.child.pid]);
    rows.push(v.row);
    console.log(`  measured ${v.name}: ${Math.round(v.row.rps)} req/s, ${f1(v.row.cpuPerRequest)} µs CPU/request (medians of ${ROUNDS} interleaved rounds)`);
  }
  for (const v of variants.slice(1)) await stop(v.child);
  await setRoute('canary', 50, banyan.admin);
  await routedAs('canary', [banyan]);
  await measure('banyan canary 50', banyan.port, [banyan.child.pid]);
  await setRoute('monolith', undefined, banyan.admin);
  await stop(banyan.child);

  report(rows);
  console.log(`\nFinished in ${Math.round((Date.now() - began) / 1000)} s.`);
}

/** The added percentile of a row: median over rounds of (proxy − upstream in the same round), and the noise floor. */
function added(row, key) {
  if (!row.rounds.length || !row.rounds[0].base) return undefined;
  const base = row.rounds.map((r) => r.base[key]);
  return { value: median(row.rounds.map((r) => r.own[key] - r.base[key])), base: median(base), noise: range(base) };
}

function report(rows) {
  const direct = rows[0];
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  console.log('\n| target | req/s | × upstream | CPU µs/req | p50 @1k/s (ms) | p99 @1k/s (ms) | added p50 (ms) | added p99 (ms) | upstream p50 / p99 in the same rounds (ms) | peak RSS (MB) | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const own = r.rounds.length ? [median(r.rounds.map((x) => x.own.p50)), median(r.rounds.map((x) => x.own.p99))] : [NaN, NaN];
    const a50 = added(r, 'p50');
    const a99 = added(r, 'p99');
    const cell = (a) => (a ? `${f2(a.value)}` : '—');
    const upstreamCell = a50 ? `${f2(a50.base)} / ${f2(a99.base)} (p99 range ${f2(a99.noise)})` : '—';
    const latencyCells = r.rounds.length ? [f2(own[0]), f2(own[1])] : ['—', '—'];
    console.log(`| ${r.name} | ${Math.round(r.rps)} | ${f2(r.rps / direct.rps)} | ${f1(r.cpuPerRequest)} | ${latencyCells[0]} | ${latencyCells[1]} | ${cell(a50)} | ${cell(a99)} | ${upstreamCell} | ${f1(r.peak)} | ${r.errors} |`);
  }

  const lines = [];
  const verdict = (met) => (met ? 'met         ' : 'NOT MET     ');
  for (const name of ['banyan monolith', 'banyan canary 50']) {
    const b = byName[name];
    const floorX = b.rps / byName['node:http floor'].rps;
    lines.push(`${verdict(floorX >= FLOOR_GOAL)} ${name} ≥ ${FLOOR_GOAL} × the node:http floor (${f2(floorX)} ×)`);
    if (byName.nginx) {
      const x = b.rps / byName.nginx.rps;
      lines.push(`${verdict(x >= 0.4)} ${name} ≥ 0.4 × nginx (${f2(x)} ×)`);
    }
    const naive = b.rps / byName['naive express + hpm'].rps;
    lines.push(`${verdict(naive >= 3)} ${name} ≥ 3 × naive (${f2(naive)} ×)`);
    const a = added(b, 'p99');
    // A difference no larger than the upstream's own round-to-round variation says nothing about the proxy.
    if (a.value <= a.noise) lines.push(`within noise ${name} added p99 ≤ ${ADDED_P99_GOAL_MS} ms at 1,000 req/s (${f2(a.value)} ms; the upstream's own p99 moved by ${f2(a.noise)} ms between rounds)`);
    else lines.push(`${verdict(a.value <= ADDED_P99_GOAL_MS)} ${name} added p99 ≤ ${ADDED_P99_GOAL_MS} ms at 1,000 req/s (${f2(a.value)} ms; upstream's own range ${f2(a.noise)} ms)`);
    lines.push(`${verdict(b.peak <= 150)} ${name} RSS ≤ 150 MB (${f1(b.peak)} MB)`);
  }
  const floorPost = byName['node:http floor, POST small body'];
  const banyanPost = byName['banyan monolith, POST small body'];
  if (floorPost && banyanPost) {
    const getRatio = byName['banyan monolith'].rps / byName['node:http floor'].rps;
    const postRatio = banyanPost.rps / floorPost.rps;
    const cost = 1 - postRatio / getRatio;
    lines.push(`${verdict(cost < BUFFERING_GOAL)} taking small bodies whole costs < ${BUFFERING_GOAL * 100} % throughput (POST ${f2(postRatio)} × floor against GET ${f2(getRatio)} ×: ${f1(cost * 100)} %)`);
  }
  const off = byName['banyan monolith, tracing off'];
  const cost = (row) => `${f1((1 - row.rps / off.rps) * 100)} % throughput, ${f1((row.cpuPerRequest / off.cpuPerRequest - 1) * 100)} % CPU per request`;
  const def = byName['banyan monolith'];
  lines.push(`${verdict(1 - def.rps / off.rps <= 0.15)} tracing at the default sampling costs ≤ 15 % throughput vs tracing off (${cost(def)})`);
  lines.push(`info         tracing at 100 % sampling vs off: ${cost(byName['banyan monolith, tracing 100 %'])}`);
  lines.push(`info         http instrumentation left on (default sampling) vs off: ${cost(byName['banyan monolith, http instrumentation on'])}`);
  console.log('\nGoals:');
  for (const l of lines) console.log(`  ${l}`);
}

const limit = setTimeout(() => {
  console.error(`bench:gateway: stopped after ${LIMIT_S} s (the time limit)`);
  cleanup();
  process.exit(1);
}, LIMIT_S * 1000);

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(c.spawnfile?.endsWith('nginx') ? 'SIGQUIT' : 'SIGTERM');
}

main()
  .catch((err) => {
    console.error(`bench:gateway failed: ${err.stack ?? err}`);
    process.exitCode = 1;
  })
  .finally(() => {
    clearTimeout(limit);
    cleanup();
  });
