import type { Command } from 'commander';

export function registerShadow(program: Command): void {
  program
    .command('shadow')
    .description('(not built yet)')
    .action(() => {
      throw new Error('"banyan shadow" is not built yet');
    });
}
