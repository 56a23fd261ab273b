import type { Command } from 'commander';

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('(not built yet)')
    .action(() => {
      throw new Error('"banyan seed" is not built yet');
    });
}
