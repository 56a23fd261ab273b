'use strict';
// The small upstream every proxy in the benchmark forwards to: a fixed JSON body, keep-alive,
// on one or more ports (Banyan's canary needs two "sides").
const http = require('node:http');

const body = JSON.stringify({ id: '0190a3b4-7c1d-7000-8000-000000000001', sku: 'LAMP-1', name: 'Lamp', priceCents: 1999, stock: 12 });
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
const ports = process.argv.slice(2).map(Number);
let listening = 0;
for (const port of ports) {
  const s = port === ports[0] ? server : http.createServer(server.listeners('request')[0]);
  s.keepAliveTimeout = 65_000;
  s.listen(port, '127.0.0.1', () => {
    if (++listening === ports.length) process.send?.('ready');
  });
}
