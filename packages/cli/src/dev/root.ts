import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder up from here whose package.json is the `banyan` workspace. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'banyan') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('run banyan from inside the Banyan repository');
    dir = parent;
  }
}
