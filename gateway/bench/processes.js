'use strict';
// What run.js and profile.js both need: starting a bench process, and the environment Banyan's
// gateway runs with in a benchmark (its own ports and database, 127.0.0.1 upstreams).
const { fork } = require('node:child_process');
const path = require('node:path');

const TOKEN = 'bench-admin-token-0123456789abcdef';

/** Fork `file` of this folder and wait for its 'ready' message (30 s at most); `registry` collects it for cleanup. */
function startChild(file, args, options = {}, registry = []) {
  const child = fork(path.join(__dirname, file), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...options });
  registry.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in 30 s`)), 30_000);
    child.once('message', () => (clearTimeout(timer), resolve(child)));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/** bench/banyan.js's environment: the public and admin ports, the bench database, the upstreams. */
function gatewayEnv({ port, adminPort, monolith, products }) {
  return {
    ...process.env,
    BANYAN_ADMIN_TOKEN: TOKEN,
    GATEWAY_PORT: String(port),
    GATEWAY_ADMIN_PORT: String(adminPort),
    GATEWAY_DATABASE: 'banyan_bench_gateway',
    MONOLITH_URL: monolith,
    ...(products ? { PRODUCTS_SERVICE_URL: products } : {}),
  };
}

module.exports = { TOKEN, startChild, gatewayEnv };
