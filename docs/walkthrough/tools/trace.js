#!/usr/bin/env node
// Every log line of one trace, from the logs named (default: BANYAN_LOG, what `npm start` wrote),
// in the order things started: which process, what it did, and the span it was in. A request line
// is logged when its response has gone out, and a busy process may log it after its caller has
// already finished, so a request is placed at its start (time − responseTime): the order request
// first, then the calls it made, in the order it made them.
const fs = require('node:fs');
const [traceId, ...files] = process.argv.slice(2);
const hits = [];
for (const file of files.length ? files : [process.env.BANYAN_LOG ?? 'banyan.log']) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes(traceId)) continue;
    const m = /^(?:\[([\w-]+)\]\s+)?(\{.*\})\s*$/.exec(line);
    if (!m) continue;
    const entry = JSON.parse(m[2]);
    if (entry.trace_id !== traceId) continue;
    const what = entry.req ? `${entry.req.method} ${entry.req.url.split('?')[0]} → ${entry.res?.statusCode}` : entry.msg;
    const started = Date.parse(entry.time) - (typeof entry.responseTime === 'number' ? entry.responseTime : 0);
    hits.push({ started, text: `${(entry.service ?? m[1]).padEnd(22)} ${what}  (span ${entry.span_id})` });
  }
}
hits.sort((a, b) => a.started - b.started);
for (const h of hits) console.log(h.text);
console.log(`${hits.length} log line${hits.length === 1 ? '' : 's'} in trace ${traceId}`);
