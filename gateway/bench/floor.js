'use strict';
// The Node floor: a bare node:http keep-alive proxy, the request piped to an agent with
// keep-alive and the answer piped back, nothing else (no routing, no checks, no buffering).
// What any gateway on one Node event loop pays at least; Banyan ÷ this is its own cost.
const http = require('node:http');

const [port, target] = process.argv.slice(2);
const upstream = new URL(target);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
http
  .createServer((req, res) => {
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  })
  .listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
