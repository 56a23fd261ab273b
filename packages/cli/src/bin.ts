#!/usr/bin/env node
import { Command } from 'commander';
import { shutdownTelemetry, withSpan } from '@banyan/telemetry';
import { registerStart } from './commands/start';
import { registerSeed } from './commands/seed';
import { registerStatus } from './commands/status';
import { registerRoute } from './commands/route';
import { registerRamp } from './commands/ramp';
import { registerShadow } from './commands/shadow';
import { registerOutbox } from './commands/outbox';
import { registerBackfill } from './commands/backfill';
import { registerVerify } from './commands/verify';
import { registerParity } from './commands/parity';

const program = new Command('banyan')
  .description('Banyan: strangle a monolith one domain at a time.')
  .showHelpAfterError('(run "banyan --help" for the commands)');

for (const register of [registerStart, registerSeed, registerStatus, registerRoute, registerRamp, registerShadow, registerOutbox, registerParity, registerBackfill, registerVerify]) register(program);

// One span per command (a no-op unless bin/banyan.js started the SDK): the root of the calls it
// makes, flushed before the process ends so a short command's trace is not lost.
const command = process.argv[2] ?? '';
withSpan(`banyan ${command}`.trim(), { 'banyan.cli.command': command }, () => program.parseAsync(process.argv))
  .catch((err: Error) => {
    console.error(`banyan: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => shutdownTelemetry())
  .finally(() => {
    if (process.exitCode === 1) process.exit(1);
  });
