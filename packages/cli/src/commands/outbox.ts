import type { Command } from 'commander';

export function registerOutbox(program: Command): void {
  program
    .command('outbox')
    .description('(not built yet)')
    .action(() => {
      throw new Error('"banyan outbox" is not built yet');
    });
}
