#!/usr/bin/env node
// The command npm links as `banyan` (npx banyan …). A committed file, so `npm ci` can link it
// before anything is built; the CLI itself is compiled TypeScript in ../dist.
//
// With an OTLP endpoint set, a command is traced like every other Banyan process: the SDK starts
// here, before the CLI loads pg and the rest, and its calls to the admin API carry the trace to
// the gateway. `banyan start` is a supervisor; its children trace themselves.
const env = process.env;
const tracing =
  process.argv[2] !== 'start' &&
  Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) &&
  String(env.OTEL_SDK_DISABLED).trim().toLowerCase() !== 'true';
try {
  if (tracing) require('@banyan/telemetry').startTelemetry({ serviceName: 'banyan-cli' });
  require('../dist/bin.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist\/(bin|index)\.js/.test(String(err.message))) {
    console.error('banyan: the CLI is not built yet; run `npm run build` (npm start and npm test build it too).');
    process.exit(1);
  }
  throw err;
}
