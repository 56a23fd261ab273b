import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Files that read in one sitting (STYLE.md, issue 17): no source file of a workspace is over
 * MAX_LINES. A longer one is several files waiting to be named; split it along its seams.
 *
 * Source is every .ts/.js file under packages, monolith, gateway and extracted, except tests
 * (anything under a `test/` folder), benchmarks (`bench/`: scripts run by hand, measured, not
 * read as the product), compiled output, declarations, and the dashboard's script
 * (gateway/dashboard/app.js: one browser file served as is, with no bundler to split it for).
 */
const ROOT = path.resolve(__dirname, '../..');
const MAX_LINES = 300;
const WORKSPACES = ['packages', 'monolith', 'gateway', 'extracted'];
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'test', 'bench']);
const SKIPPED_FILES = new Set(['gateway/dashboard/app.js']);

function lineCount(file: string): number {
  const text = readFileSync(file, 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Source files over MAX_LINES under `root`, as `path: lines`, paths relative to `root`. */
function longSourceFiles(root: string): string[] {
  const long: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(e.name)) walk(rel);
      } else if (/\.(ts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts') && !SKIPPED_FILES.has(rel)) {
        const lines = lineCount(path.join(root, rel));
        if (lines > MAX_LINES) long.push(`${rel}: ${lines}`);
      }
    }
  };
  for (const ws of WORKSPACES) {
    try {
      walk(ws);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return long;
}

describe('Source files read in one sitting', () => {
  it(`When the repository is read, then no source file outside tests, bench/ and the dashboard's script is over ${MAX_LINES} lines`, () => {
    expect(longSourceFiles(ROOT)).toEqual([]);
  });

  describe('the check itself, on a planted tree', () => {
    let dir: string;
    const plant = (rel: string, lines: number) => {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), 'x;\n'.repeat(lines));
    };
    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'banyan-file-size-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it(`When source files of ${MAX_LINES + 1} lines are planted, then each is named with its count, and files of ${MAX_LINES}, tests, benchmarks and the dashboard's script are not`, () => {
      plant('packages/relay/src/long.ts', MAX_LINES + 1);
      plant('monolith/src/modules/orders/domain/long.js', MAX_LINES + 1);
      plant('gateway/src/exactly.ts', MAX_LINES);
      plant('packages/relay/test/long.test.ts', 1_000);
      plant('packages/relay/bench/long.ts', 1_000);
      plant('gateway/dashboard/app.js', 1_000);
      plant('extracted/products-service/dist/long.js', 1_000);
      plant('extracted/products-service/src/types.d.ts', 1_000);

      expect(longSourceFiles(dir).sort()).toEqual([`monolith/src/modules/orders/domain/long.js: ${MAX_LINES + 1}`, `packages/relay/src/long.ts: ${MAX_LINES + 1}`]);
    });
  });
});
