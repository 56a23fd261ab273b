import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const depcruise = path.join(root, 'node_modules/.bin/depcruise');
const config = path.join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string, target: string): { ok: boolean; output: string } {
  try {
    const output = execFileSync(depcruise, [target, '--config', config, '--output-type', 'err'], { cwd, encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, output };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('module boundaries', () => {
  test('the monolith as it is imports no module internals across modules', () => {
    const result = cruise(root, 'monolith/src');
    expect(result.output).not.toMatch(/module-internals-are-private/);
    expect(result.ok).toBe(true);
  }, 60_000);

  test('When a module imports another module\'s internals, then the rule fails and names the import', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'banyan-arch-'));
    try {
      const modules = path.join(dir, 'monolith/src/modules');
      mkdirSync(path.join(modules, 'orders/data'), { recursive: true });
      mkdirSync(path.join(modules, 'billing'), { recursive: true });
      writeFileSync(path.join(modules, 'orders/index.ts'), 'export const door = 1;\n');
      writeFileSync(path.join(modules, 'orders/data/repository.ts'), 'export const secret = 2;\n');
      writeFileSync(
        path.join(modules, 'billing/index.ts'),
        "import { door } from '../orders';\nimport { secret } from '../orders/data/repository';\nexport const x = door + secret;\n",
      );
      writeFileSync(path.join(dir, 'tsconfig.tests.json'), '{}');

      const result = cruise(dir, 'monolith/src');

      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/module-internals-are-private/);
      expect(result.output).toMatch(/billing\/index\.ts.*orders\/data\/repository\.ts/s);
      // The import through the door is allowed: exactly one violation.
      expect(result.output.match(/module-internals-are-private/g)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('migrations are imported only by the door', () => {
  test('the modules and services as they are import their migrations only from index.ts or app.ts', () => {
    for (const target of ['monolith/src', 'extracted']) {
      const result = cruise(root, target);
      expect(result.output).not.toMatch(/migrations-only-through-the-door/);
      expect(result.ok).toBe(true);
    }
  }, 60_000);

  test("When a module's http/ imports a value from its migrations, then the rule fails and names the import; the door's import is allowed", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'banyan-arch-'));
    try {
      const products = path.join(dir, 'monolith/src/modules/products');
      mkdirSync(path.join(products, 'data'), { recursive: true });
      mkdirSync(path.join(products, 'http'), { recursive: true });
      writeFileSync(path.join(products, 'data/migrations.ts'), 'export const MAX_STOCK = 1_000_000_000;\nexport const migrations = [];\n');
      writeFileSync(path.join(products, 'http/schemas.ts'), "import { MAX_STOCK } from '../data/migrations';\nexport const max = MAX_STOCK;\n");
      writeFileSync(path.join(products, 'index.ts'), "import { migrations } from './data/migrations';\nimport { max } from './http/schemas';\nexport const door = [migrations, max];\n");
      writeFileSync(path.join(dir, 'tsconfig.tests.json'), '{}');

      const result = cruise(dir, 'monolith/src');

      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/migrations-only-through-the-door/);
      expect(result.output).toMatch(/http\/schemas\.ts.*data\/migrations\.ts/s);
      expect(result.output.match(/migrations-only-through-the-door/g)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('use cases reach their tables only through their dependencies (issue 17)', () => {
  test("the modules and services as they are import no data/ value from domain/", () => {
    for (const target of ['monolith/src', 'extracted']) {
      const result = cruise(root, target);
      expect(result.output).not.toMatch(/use-cases-reach-data-through-their-dependencies/);
      expect(result.ok).toBe(true);
    }
  }, 60_000);

  test("When a use case imports its module's repository, then the rule fails and names the import; a type-only import, the door's and an adapter's are allowed", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'banyan-arch-'));
    try {
      const put = (file: string, text: string) => {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      };
      put('monolith/src/modules/orders/data/repository.ts', 'export interface Row { id: string }\nexport const ordersRepository = { find: (id: string) => ({ id }) };\n');
      put('monolith/src/modules/orders/domain/find-order.ts', "import { ordersRepository } from '../data/repository';\nexport const findOrder = (id: string) => ordersRepository.find(id);\n");
      put('monolith/src/modules/orders/domain/cancel-order.ts', "import type { Row } from '../data/repository';\nexport const cancel = (row: Row) => row.id;\n");
      put('monolith/src/modules/orders/http/routes.ts', "import { ordersRepository } from '../data/repository';\nexport const routes = ordersRepository;\n");
      put('monolith/src/modules/orders/index.ts', "import { ordersRepository } from './data/repository';\nimport { findOrder } from './domain/find-order';\nimport { cancel } from './domain/cancel-order';\nimport { routes } from './http/routes';\nexport const door = [ordersRepository, findOrder, cancel, routes];\n");
      put('extracted/orders-service/src/data/repository.ts', 'export const ordersRepository = { find: (id: string) => ({ id }) };\n');
      put('extracted/orders-service/src/domain/find-order.ts', "import { ordersRepository } from '../data/repository';\nexport const findOrder = (id: string) => ordersRepository.find(id);\n");
      put('tsconfig.tests.json', '{}');

      const monolith = cruise(dir, 'monolith/src');
      const service = cruise(dir, 'extracted');

      expect(monolith.ok).toBe(false);
      expect(monolith.output).toMatch(/use-cases-reach-data-through-their-dependencies[^\n]*\n?[^\n]*domain\/find-order\.ts.*data\/repository\.ts/s);
      expect(monolith.output.match(/use-cases-reach-data-through-their-dependencies/g)).toHaveLength(1);
      expect(monolith.output).not.toMatch(/cancel-order\.ts →|http\/routes\.ts →/);
      expect(service.ok).toBe(false);
      expect(service.output.match(/use-cases-reach-data-through-their-dependencies/g)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** A scratch project shaped like this repository, with its own name-to-source map like tsconfig.tests.json's. */
function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'banyan-arch-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  writeFileSync(path.join(dir, 'tsconfig.tests.json'), JSON.stringify({ compilerOptions: { paths: { '@banyan/*': ['./packages/*/src'] } } }));
  return dir;
}

describe('the toolkit names no application, and the gateway never imports the CLI (issue 11)', () => {
  test('packages/ and gateway/src as they are break neither rule', () => {
    for (const target of ['packages', 'gateway/src']) {
      const result = cruise(root, target);
      expect(result.output).not.toMatch(/toolkit-stands-alone|gateway-never-imports-the-cli/);
      expect(result.ok).toBe(true);
    }
  }, 60_000);

  test('When a package imports the monolith, a service or an example, then toolkit-stands-alone fails once for each; its tests may', () => {
    const dir = scratch({
      'monolith/src/modules/products/index.ts': 'export const products = 1;\n',
      'extracted/products-service/src/app.ts': 'export const app = 2;\n',
      'examples/library/src/books.ts': 'export const books = 3;\n',
      'packages/sync/src/index.ts':
        "import { products } from '../../../monolith/src/modules/products';\n" +
        "import { app } from '../../../extracted/products-service/src/app';\n" +
        "import { books } from '../../../examples/library/src/books';\n" +
        'export const planted = [products, app, books];\n',
      'packages/sync/test/compare.test.ts': "import { products } from '../../../monolith/src/modules/products';\nexport const allowed = products;\n",
    });
    try {
      const result = cruise(dir, 'packages');

      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/toolkit-stands-alone: packages\/sync\/src\/index\.ts → monolith\/src\/modules\/products\/index\.ts/);
      expect(result.output).toMatch(/toolkit-stands-alone: packages\/sync\/src\/index\.ts → extracted\/products-service\/src\/app\.ts/);
      expect(result.output).toMatch(/toolkit-stands-alone: packages\/sync\/src\/index\.ts → examples\/library\/src\/books\.ts/);
      expect(result.output.match(/toolkit-stands-alone/g)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('When the gateway imports @banyan/cli, by its name or by a relative path, then gateway-never-imports-the-cli fails for each; @banyan/sync is allowed', () => {
    const dir = scratch({
      'packages/cli/src/index.ts': 'export const cli = 1;\n',
      'packages/sync/src/index.ts': 'export const sync = 2;\n',
      'gateway/src/dashboard/verify.ts': "import { cli } from '@banyan/cli';\nimport { sync } from '@banyan/sync';\nexport const planted = [cli, sync];\n",
      'gateway/src/fence-outbox.ts': "import { cli } from '../../packages/cli/src';\nexport const planted = cli;\n",
    });
    try {
      const result = cruise(dir, 'gateway/src');

      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/gateway-never-imports-the-cli: gateway\/src\/dashboard\/verify\.ts → packages\/cli\/src\/index\.ts/);
      expect(result.output).toMatch(/gateway-never-imports-the-cli: gateway\/src\/fence-outbox\.ts → packages\/cli\/src\/index\.ts/);
      expect(result.output.match(/gateway-never-imports-the-cli/g)).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
