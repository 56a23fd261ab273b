import type { Command } from 'commander';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('(not built yet)')
    .action(() => {
      throw new Error('"banyan start" is not built yet');
    });
}
