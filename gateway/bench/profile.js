'use strict';
/**
 * Where the gateway's CPU goes: `npm run bench:gateway:profile`. Starts the benchmark's upstream
 * and Banyan's gateway (monolith mode, tracing off, so the split is the proxy's own) under V8's
 * sampling profiler, loads it for 8 s with autocannon from a process of its own, and prints each
 * part's share of the samples: Banyan's code, the libraries it forwards with, Node's HTTP stack,
 * socket writes, garbage collection. 127.0.0.1 only; stops by itself within a minute.
 *
 * docs/benchmarks.md uses it to say why the gateway stays below the nginx goal: what Banyan
 * itself could still remove is bounded by its share here.
 */
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { gatewayEnv, startChild } = require('./processes');

const PORTS = { upstream: 18100, banyan: 18130, admin: 18131 };
const PATH = '/api/products/0190a3b4-7c1d-7000-8000-000000000001';


/** Which part of the process a profile node's code belongs to. */
function partOf(callFrame) {
  const url = callFrame.url;
  if (!url) {
    if (/^(writev|writeLatin1String|writeUtf8String|writeBuffer)$/.test(callFrame.functionName)) return 'socket writes (syscalls)';
    if (callFrame.functionName === '(garbage collector)') return 'garbage collection';
    if (callFrame.functionName === '(idle)') return 'idle';
    return 'V8 and other native';
  }
  if (/\/gateway\/dist\//.test(url) || /\/packages\/[^/]+\/dist\//.test(url)) return 'Banyan (gateway and packages)';
  const lib = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (lib) return ['httpxy', 'http-proxy-middleware', 'opossum', 'prom-client'].includes(lib[1]) ? `library: ${lib[1]}` : 'other libraries';
  if (/^node:(_http_|http|net|internal\/streams|internal\/stream_base|events|internal\/process\/task_queues|internal\/timers|timers)/.test(url)) return "Node's HTTP stack (server, client, agent, streams, events)";
  if (/^node:internal\/modules/.test(url)) return 'module loading (start-up)';
  return 'other Node internals';
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'banyan-gw-profile-'));
  const upstream = await startChild('upstream.js', [String(PORTS.upstream)]);
  const gateway = await startChild('banyan.js', [], {
    env: { ...gatewayEnv({ port: PORTS.banyan, adminPort: PORTS.admin, monolith: `http://127.0.0.1:${PORTS.upstream}` }), OTEL_SDK_DISABLED: 'true' },
    execArgv: ['--max-semi-space-size=8', '--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  const load = fork(path.join(__dirname, 'load.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const result = await new Promise((resolve, reject) => {
    load.on('message', (m) => {
      if (m.event === 'ready') load.send({ kind: 'throughput', port: PORTS.banyan, path: PATH, connections: 50, seconds: 8, warmup: 2 });
      else if (m.event === 'done') resolve(m.result);
      else if (m.event === 'failed') reject(new Error(m.error));
    });
    load.once('exit', (code) => reject(new Error(`load.js exited with ${code}`)));
  });
  load.kill();
  // banyan.js exits on SIGTERM with process.exit, which writes the profile.
  await new Promise((resolve) => (gateway.once('exit', resolve), gateway.kill('SIGTERM')));
  upstream.kill();

  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile was written to ${dir}`);
  const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parts = new Map();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const part = partOf(nodes.get(id).callFrame);
    const us = profile.timeDeltas[i] ?? 0;
    parts.set(part, (parts.get(part) ?? 0) + us);
    if (part !== 'idle') busy += us;
  });
  console.log(`Gateway CPU profile · ${os.cpus().length} cores · node ${process.version} · ${new Date().toISOString()}`);
  console.log(`Load: autocannon 8 s × 50 connections, ${Math.round(result.rps)} req/s under the profiler (it costs throughput; the split is what matters), ${result.errors} errors.`);
  console.log('Share of the busy samples (idle left out):');
  for (const [part, us] of [...parts].filter(([p]) => p !== 'idle').sort((a, b) => b[1] - a[1])) {
    console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${part}`);
  }
  console.log(`Profile: ${path.join(dir, file)} (open it in Chrome DevTools → Performance, or VS Code).`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
