'use strict';
/**
 * The load generator, in a process of its own so that generating load never runs on the event
 * loop of the proxy being measured (it still shares the machine's cores: run.js says so). Forked
 * by run.js; one job per message, the result sent back on IPC. Targets are always 127.0.0.1.
 *
 *   { kind: 'throughput', port, path, connections, seconds, warmup, body? } → autocannon, closed loop
 *     (with `body`: POSTs of that JSON text, for what taking a body whole costs)
 *   { kind: 'fixed', port, path, rate, seconds, warmup }              → open loop at `rate` req/s
 */
const http = require('node:http');
const autocannon = require('autocannon');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per-connection tokens with different subjects, so canary traffic really splits between sides. */
function tokenFor(i) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'ES256' })}.${b64({ sub: `bench-user-${i}` })}.sig`;
}

async function throughput({ port, path, connections, seconds, warmup, body }) {
  let n = 0;
  const opts = {
    url: `http://127.0.0.1:${port}${path}`,
    connections,
    ...(body ? { method: 'POST', body } : {}),
    setupClient: (client) => client.setHeaders({ authorization: `Bearer ${tokenFor(n++ % connections)}`, ...(body ? { 'content-type': 'application/json' } : {}) }),
  };
  if (warmup) await autocannon({ ...opts, duration: warmup });
  process.send({ event: 'measuring' });
  const r = await autocannon({ ...opts, duration: seconds });
  return { rps: r.requests.average, requests: r.requests.total, errors: r.errors + r.timeouts + r.non2xx };
}

/**
 * Open loop: requests leave on schedule whether or not earlier ones have returned, so a slow
 * proxy shows up as latency instead of silently lowering the rate. Each request is timed with
 * hrtime (autocannon's histogram has 1 ms resolution, too coarse for a 2 ms budget).
 */
async function fixed({ port, path, rate, seconds, warmup = 0 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies = [];
  let errors = 0;
  // The first `warmup` seconds open the connections and are not counted: the question is the
  // steady state, and both the upstream and the proxy rounds get the same treatment.
  const skip = Math.round(rate * warmup);
  const total = rate * seconds + skip;
  const started = process.hrtime.bigint();
  let sent = 0;
  const inflight = new Set();
  const one = (i) =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${tokenFor(i % 50)}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (i < skip) return resolve();
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => (i >= skip && errors++, resolve()));
    });
  while (sent < total) {
    const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - started) / 1e9) * rate));
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
  return { p50: pct(50), p99: pct(99), errors, count: latencies.length };
}

process.on('message', (job) => {
  (job.kind === 'throughput' ? throughput(job) : fixed(job)).then(
    (result) => process.send({ event: 'done', result }),
    (err) => process.send({ event: 'failed', error: String(err.stack ?? err) }),
  );
});
process.send({ event: 'ready' });
