/**
 * Preload: `node -r @banyan/telemetry/register dist/main.js`. Starts OpenTelemetry before the
 * entry (and so before http, express, pg, amqplib, pino) is loaded, which is what lets the
 * instrumentations patch them, without any process having to change its code.
 *
 * This file must not import pino, express or pg itself, directly or through ./index.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTelemetry } from './sdk';

/** `@banyan/orders-service` → `banyan-orders-service`, from the entry's nearest package.json. */
function serviceNameOfEntry(entry: string | undefined): string {
  let dir = entry ? path.dirname(path.resolve(entry)) : process.cwd();
  for (;;) {
    try {
      const { name } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (name) return name.replace(/^@/, '').replace('/', '-');
    } catch {
      // no package.json here: keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown_service:node';
    dir = parent;
  }
}

/**
 * The amqplib instrumentation stays off unless the operator lists it (ADR 0403). The relay and
 * the consumer runtime make the messaging spans themselves, parented on the outbox row's
 * traceparent; the instrumentation would add a second publish span per message parented on
 * whatever context is active in the relay's loop (none: a new root trace) and overwrite the
 * message's traceparent header with it, so every consumer would continue that orphan instead of
 * the request's trace. Only for the SDK's start: the process's environment is left as given.
 */
function startWithoutAmqplibByDefault(serviceName: string) {
  const env = process.env;
  const given = env.OTEL_NODE_DISABLED_INSTRUMENTATIONS;
  const disabled = (given ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!env.OTEL_NODE_ENABLED_INSTRUMENTATIONS?.trim() && !disabled.includes('amqplib')) {
    env.OTEL_NODE_DISABLED_INSTRUMENTATIONS = [...disabled, 'amqplib'].join(',');
  }
  try {
    return startTelemetry({ serviceName });
  } finally {
    if (given === undefined) delete env.OTEL_NODE_DISABLED_INSTRUMENTATIONS;
    else env.OTEL_NODE_DISABLED_INSTRUMENTATIONS = given;
  }
}

if (process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true') {
  const telemetry = startWithoutAmqplibByDefault(serviceNameOfEntry(process.argv[1]));

  // A process with its own graceful shutdown (@banyan/http's installShutdownHandlers) owns the
  // signal and should call shutdownTelemetry() as its last step. One without any handler would
  // be killed by the signal with its last batch of spans unsent: flush, then let the signal do
  // what it would have done. Adding a listener at all disables Node's default exit, hence the
  // re-raise.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const flushThenDie = () => {
      if (process.listenerCount(signal) > 1) return;
      process.removeListener(signal, flushThenDie);
      const timeout = new Promise((resolve) => setTimeout(resolve, 2_000).unref());
      void Promise.race([telemetry.shutdown().catch(() => {}), timeout]).then(() => process.kill(process.pid, signal));
    };
    process.on(signal, flushThenDie);
  }
}
