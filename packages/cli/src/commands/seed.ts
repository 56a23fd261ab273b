import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { repoRoot } from '../dev/root';

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('create and migrate the monolith database, then add the admin user and a demo catalog if missing')
    .action(() => {
      const run = spawnSync(process.execPath, [path.join(repoRoot(), 'monolith/dist/seed-main.js')], { stdio: 'inherit' });
      process.exit(run.status ?? 1);
    });
}
