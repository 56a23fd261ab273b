/**
 * Issue 11, item 4: every toolkit package in packages/* is a package another project can install.
 * Its manifest says what it is and exports only dist; every import its sources and its .d.ts output
 * make resolves through its own dependencies; `npm pack` gives a tarball with dist, README.md and
 * package.json and nothing of src/ or test/; and a few tarballs, installed together into a fresh
 * project, are required there by plain node and work.
 *
 * Runs the compiled output: `npm test` builds first (`npx tsc -b` when running this file alone).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const rootManifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { license: string };

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  engines?: { node?: string };
  main?: string;
  types?: string;
  exports?: Record<string, string | { types?: string; default?: string }>;
  files?: string[];
  dependencies?: Record<string, string>;
}

const dirs = readdirSync(path.join(root, 'packages')).filter((d) => existsSync(path.join(root, 'packages', d, 'package.json')));
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest;
const byName = new Map(dirs.map((d) => [manifest(d).name, manifest(d)]));

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    return statSync(file).isDirectory() ? filesUnder(file, keep) : keep(file) ? [file] : [];
  });
}

/** The packages a file imports by bare name (`zod`, `@banyan/db`), with `node:` and built-ins left out. */
function bareImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+|\bdeclare\s+module\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

const typesName = (name: string) => `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;

/** Whether the installed package (the workspace's own node_modules first, then the root's) ships its own types. */
function shipsTypes(dir: string, name: string): boolean {
  const installed = [path.join(root, 'packages', dir, 'node_modules', name), path.join(root, 'node_modules', name)].find((d) => existsSync(path.join(d, 'package.json')));
  if (!installed) return false;
  const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { types?: string; typings?: string; exports?: unknown };
  return Boolean(pkg.types || pkg.typings || JSON.stringify(pkg.exports ?? '').includes('"types"') || existsSync(path.join(installed, 'index.d.ts')));
}

describe('Every toolkit package is a package another project can install', () => {
  let packDir: string;
  let packed: Map<string, { filename: string; files: string[] }>;

  beforeAll(async () => {
    packDir = mkdtempSync(path.join(tmpdir(), 'banyan-pack-'));
    const workspaces = dirs.flatMap((d) => ['-w', `packages/${d}`]);
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir, ...workspaces], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    const results = JSON.parse(stdout) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
    packed = new Map(results.map((r) => [r.name, { filename: path.join(packDir, r.filename), files: r.files.map((f) => f.path) }]));
  }, 60_000);

  afterAll(() => {
    if (packDir) rmSync(packDir, { recursive: true, force: true });
  });

  test.each(dirs)('When packages/%s is read, then its manifest describes it and exports only dist', (dir) => {
    const pkg = manifest(dir);

    expect(pkg.name).toBe(`@banyan/${dir}`);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(pkg.description?.length).toBeGreaterThan(20);
    expect(pkg.license).toBe(rootManifest.license);
    expect(pkg.engines?.node).toBe('>=24');
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.types).toBe('dist/index.d.ts');
    expect(pkg.exports?.['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'README.md']));
    // Not published yet (the project says so in each README); `npm pack` works on private packages.
    expect(pkg.private).toBe(true);
    expect(readFileSync(path.join(root, 'packages', dir, 'README.md'), 'utf8')).toContain(`@banyan/${dir}`);
  });

  test.each(dirs)('When packages/%s is installed elsewhere, then every package its sources and types import is one of its dependencies', (dir) => {
    const pkg = manifest(dir);
    const deps = pkg.dependencies ?? {};
    const sources = filesUnder(path.join(root, 'packages', dir, 'src'), (f) => f.endsWith('.ts'));
    const declarations = filesUnder(path.join(root, 'packages', dir, 'dist'), (f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(0); // built: run `npx tsc -b` first

    const problems: string[] = [];
    for (const file of sources) {
      for (const name of bareImports(file)) {
        if (name === pkg.name) problems.push(`${path.relative(root, file)} imports its own package`);
        else if (!(name in deps) && !(typesName(name) in deps)) problems.push(`${path.relative(root, file)} imports ${name}, not a dependency`);
      }
    }
    // A consumer type-checks against the .d.ts: a package named there must come with types
    // (its own, or its @types/ package as a dependency). Node's built-ins are the consumer's @types/node.
    for (const file of declarations) {
      for (const name of bareImports(file)) {
        const typed = (name in deps && (name.startsWith('@banyan/') || shipsTypes(dir, name))) || typesName(name) in deps;
        if (!typed) problems.push(`${path.relative(root, file)} names ${name}, whose types are not a dependency`);
      }
    }
    for (const [name, range] of Object.entries(deps)) {
      if (!name.startsWith('@banyan/')) continue;
      const sibling = byName.get(name);
      if (!sibling) problems.push(`depends on ${name}, which is not in packages/`);
      else if (range !== sibling.version) problems.push(`depends on ${name}@${range}, but packages/ holds ${sibling.version}`);
    }
    expect(problems).toEqual([]);
  });

  test.each(dirs)('When packages/%s is packed, then the tarball holds dist, README.md and package.json and no sources or tests', (dir) => {
    const tarball = packed.get(`@banyan/${dir}`);

    expect(tarball).toBeDefined();
    expect(tarball!.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
    expect(tarball!.files.filter((f) => /^(src|test)\//.test(f) || f.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  test('When errors, parity, migration and card-processor are installed from their tarballs into a fresh project, then plain node requires them and they work', async () => {
    // Installed together so each @banyan dependency is met by its tarball, never looked up in the
    // registry, where the @banyan scope is not ours; the closure is checked before installing.
    const chosen = ['@banyan/errors', '@banyan/parity', '@banyan/migration', '@banyan/card-processor'];
    for (const name of chosen) {
      for (const dep of Object.keys(byName.get(name)!.dependencies ?? {})) {
        if (dep.startsWith('@banyan/')) expect(chosen).toContain(dep);
      }
    }
    const project = mkdtempSync(path.join(tmpdir(), 'banyan-adopter-'));
    try {
      writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'adopter', version: '1.0.0', private: true }));
      // Third-party dependencies come from npm's cache, which `npm ci` filled; the registry only if missing.
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...chosen.map((n) => packed.get(n)!.filename)], {
        cwd: project,
        timeout: 120_000,
      });
      writeFileSync(
        path.join(project, 'banyan.migration.json'),
        JSON.stringify({
          $schema: './node_modules/@banyan/migration/banyan.migration.schema.json',
          name: 'Library',
          domains: { loans: { prefixes: ['/loans'], service: { url: 'http://127.0.0.1:4102' } } },
        }),
      );
      writeFileSync(
        path.join(project, 'check.js'),
        `
        const { loadMigration, MigrationDeclarationError } = require('@banyan/migration');
        const { AppError, toProblem } = require('@banyan/errors');
        const { luhnValid } = require('@banyan/card-processor');
        require('@banyan/parity');
        const schema = require('@banyan/migration/banyan.migration.schema.json');
        const migration = loadMigration({ cwd: __dirname, env: {} });
        let refused;
        try { loadMigration({ cwd: __dirname, file: 'missing.json', env: {} }); } catch (err) { refused = err instanceof MigrationDeclarationError; }
        console.log(JSON.stringify({
          name: migration.name,
          prefixes: migration.domains.loans.prefixes,
          schema: typeof schema === 'object',
          refused,
          problem: toProblem(new AppError('LOANS.OVERDUE', 409, 'Return it first.')).title,
          luhn: luhnValid('4242424242424242'),
        }));
        `,
      );
      const { stdout } = await run(process.execPath, ['check.js'], { cwd: project, timeout: 30_000 });

      expect(JSON.parse(stdout)).toEqual({ name: 'Library', prefixes: ['/loans'], schema: true, refused: true, problem: 'Conflict', luhn: true });
      const installed = JSON.parse(readFileSync(path.join(project, 'node_modules/@banyan/migration/package.json'), 'utf8')) as Manifest;
      expect(installed.version).toBe(byName.get('@banyan/migration')!.version);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 150_000);
});
