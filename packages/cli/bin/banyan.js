#!/usr/bin/env node
// The command npm links as `banyan` (npx banyan …). A committed file, so `npm ci` can link it
// before anything is built; the CLI itself is compiled TypeScript in ../dist.
try {
  require('../dist/bin.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/bin.js')) {
    console.error('banyan: the CLI is not built yet; run `npm run build` (npm start and npm test build it too).');
    process.exit(1);
  }
  throw err;
}
