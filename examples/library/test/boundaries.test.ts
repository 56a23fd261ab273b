import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The library adopts Banyan as any project would: through the packages it installed, never by
 * reaching into this repository (monolith/, extracted/, gateway/, packages/*\/src) by a relative
 * path, and each side of the extraction keeps to its own folder (the service does not require the
 * monolith's files, nor the monolith the service's). Bare imports are its own dependencies
 * (package.json), Node's built-ins or an installed @banyan package.
 */
const EXAMPLE = path.resolve(__dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(EXAMPLE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

const sources = (dir: string): string[] =>
  readdirSync(path.join(EXAMPLE, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []));

const requires = (file: string) => [...readFileSync(path.join(EXAMPLE, file), 'utf8').matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]);

test.each(['monolith', 'books-service'])('%s requires only its own files, its dependencies, built-ins and installed @banyan packages', (side) => {
  const problems: string[] = [];
  const files = sources(side);
  expect(files.length).toBeGreaterThan(3);
  for (const file of files) {
    for (const spec of requires(file)) {
      if (spec.startsWith('.')) {
        const target = path.relative(path.join(EXAMPLE, side), path.resolve(EXAMPLE, path.dirname(file), spec));
        if (target.startsWith('..')) problems.push(`${file}: ${spec} leaves ${side}/`);
      } else if (!spec.startsWith('node:') && !spec.startsWith('@banyan/') && !(spec in manifest.dependencies)) {
        problems.push(`${file}: ${spec} is not a dependency`);
      }
    }
  }
  expect(problems).toEqual([]);
});

test('the example is not a workspace of the repository: Banyan reaches it only as installed packages', () => {
  const root = JSON.parse(readFileSync(path.join(EXAMPLE, '../../package.json'), 'utf8')) as { workspaces: string[] };
  expect(root.workspaces.some((w) => w.startsWith('examples'))).toBe(false);
  expect(Object.keys(manifest.dependencies).filter((d) => d.startsWith('@banyan/'))).toEqual([]);
});
