#!/usr/bin/env node
// Print one field of the JSON on stdin (`items.0.id`), for shells without jq.
let input = '';
process.stdin.on('data', (c) => (input += c)).on('end', () => {
  const value = process.argv[2].split('.').reduce((v, k) => (v == null ? v : v[k]), JSON.parse(input));
  console.log(typeof value === 'string' ? value : JSON.stringify(value));
});
