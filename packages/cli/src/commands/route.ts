import type { Command } from 'commander';

export function registerRoute(program: Command): void {
  program
    .command('route')
    .description('(not built yet)')
    .action(() => {
      throw new Error('"banyan route" is not built yet');
    });
}
