#!/usr/bin/env node
// Stands for your users while a ramp runs: the same 100 visitors as visitors.js (each with its own
// sticky cookie), four at a time, read a page of products through the gateway again and again
// until stopped (Ctrl-C or kill) or for the seconds given with --seconds. Then it says how every
// read was answered: by which side, how many the monolith answered after the service failed
// (x-banyan-route: …; fallback=…), and every status that was not 200.
const gateway = process.env.GATEWAY ?? 'http://127.0.0.1:8080';
const args = process.argv.slice(2);
const secondsAt = args.indexOf('--seconds');
const seconds = secondsAt >= 0 ? Number(args.splice(secondsAt, 2)[1]) : Infinity;
const path = args[0] ?? '/api/products?limit=1';

const counts = { reads: 0, monolith: 0, extracted: 0, fellBack: 0 };
const statuses = {};
let stopping = false;

async function visitor(first) {
  for (let i = first; !stopping; i = (i % 100) + 1) {
    const cookie = `banyan_sticky=visitor-${String(i).padStart(3, '0')}`;
    try {
      const res = await fetch(gateway + path, { headers: { cookie } });
      await res.arrayBuffer();
      const route = res.headers.get('x-banyan-route') ?? 'none';
      counts.reads++;
      counts[route.split(';')[0]] = (counts[route.split(';')[0]] ?? 0) + 1;
      if (route.includes('fallback=')) counts.fellBack++;
      if (res.status !== 200) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    } catch (err) {
      counts.reads++;
      statuses[err.cause?.code ?? err.message] = (statuses[err.cause?.code ?? err.message] ?? 0) + 1;
    }
  }
}

function report() {
  const other = Object.entries(statuses).map(([s, n]) => `${s}: ${n}`).join(', ');
  console.log(`${counts.reads} reads: ${counts.monolith} answered by the monolith (${counts.fellBack} of them after the service failed), ${counts.extracted} by the service`);
  console.log(other ? `not 200: ${other}` : 'every read answered 200');
}

const stop = () => {
  stopping = true;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (Number.isFinite(seconds)) setTimeout(stop, seconds * 1000);
Promise.all([1, 26, 51, 76].map(visitor)).then(report);
