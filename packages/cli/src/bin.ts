#!/usr/bin/env node
import { Command } from 'commander';
import { registerStart } from './commands/start';
import { registerSeed } from './commands/seed';
import { registerStatus } from './commands/status';
import { registerRoute } from './commands/route';
import { registerShadow } from './commands/shadow';
import { registerOutbox } from './commands/outbox';
import { registerBackfill } from './commands/backfill';
import { registerVerify } from './commands/verify';
import { registerParity } from './commands/parity';

const program = new Command('banyan')
  .description('Banyan: strangle a monolith one domain at a time.')
  .showHelpAfterError('(run "banyan --help" for the commands)');

for (const register of [registerStart, registerSeed, registerStatus, registerRoute, registerShadow, registerOutbox, registerParity, registerBackfill, registerVerify]) register(program);

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`banyan: ${err.message}`);
  process.exit(1);
});
