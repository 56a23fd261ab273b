#!/usr/bin/env node
// 100 visitors, each with its own sticky cookie, read one page of products through the gateway.
// The gateway buckets a visitor by the cookie, so the same 100 visitors land on the same side
// every run: raising the percent only adds visitors to the extracted side.
const gateway = process.env.GATEWAY ?? 'http://127.0.0.1:8080';
const path = process.argv[2] ?? '/api/products?limit=1';
(async () => {
  const sides = {};
  const early = [];
  for (let i = 1; i <= 100; i++) {
    const visitor = `visitor-${String(i).padStart(3, '0')}`;
    const res = await fetch(gateway + path, { headers: { cookie: `banyan_sticky=${visitor}` } });
    await res.arrayBuffer();
    const side = (res.headers.get('x-banyan-route') ?? 'none').split(';')[0];
    sides[side] = (sides[side] ?? 0) + 1;
    if (side === 'extracted' && early.length < 5) early.push(visitor);
  }
  console.log(Object.entries(sides).sort().map(([s, n]) => `${s}: ${n}`).join(', '));
  if (early.length) console.log(`first on the service: ${early.join(' ')}`);
})();
