import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Migration } from '@banyan/migration';
import { GATEWAY_NODE_OPTIONS, processTable, TELEMETRY_PRELOAD } from '../../cli/src/dev/processes';

/** A declaration with no service to start: the table is the monolith, the relay and the gateway. */
const noServices: Migration = { file: '', name: 'Shop', monolith: { url: 'http://127.0.0.1:3000', urlEnv: 'MONOLITH_URL', passThrough: false, internal: [] }, parity: {}, domains: {} };

const telemetryPackage = JSON.parse(readFileSync(path.join(__dirname, '../package.json'), 'utf8')) as {
  exports: Record<string, { default: string }>;
};

/** A repository root with the given entries built, in a folder whose name has a space. */
function fakeRoot(entries: string[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'banyan root '));
  for (const entry of entries) {
    mkdirSync(path.dirname(path.join(root, entry)), { recursive: true });
    writeFileSync(path.join(root, entry), '');
  }
  return root;
}

test('`banyan start` runs every process with --require of the compiled @banyan/telemetry/register', () => {
  expect(`packages/telemetry/${telemetryPackage.exports['./register'].default.replace(/^\.\//, '')}`).toBe(TELEMETRY_PRELOAD);

  const root = fakeRoot(['monolith/dist/main.js', 'packages/relay/dist/main.js', 'gateway/dist/main.js']);
  const specs = processTable(root, {}, noServices);

  expect(specs.map((s) => s.name)).toEqual(['monolith', 'relay', 'gateway']);
  for (const spec of specs) {
    // Quoted: NODE_OPTIONS splits on spaces, and this root has one. The gateway's own flags follow
    // (its 8 MiB young generation, ADR 0211).
    const own = spec.name === 'gateway' ? ` ${GATEWAY_NODE_OPTIONS}` : '';
    expect(spec.env?.NODE_OPTIONS).toBe(`--require ${JSON.stringify(path.join(root, TELEMETRY_PRELOAD))}${own}`);
  }
  expect(specs[0].env?.PORT).toBe('3000');
});

test('the preload is appended to NODE_OPTIONS the user already set, not replacing it', () => {
  const root = fakeRoot(['monolith/dist/main.js']);
  const [monolith] = processTable(root, { NODE_OPTIONS: '--max-old-space-size=512' }, noServices);
  expect(monolith.env?.NODE_OPTIONS).toBe(`--max-old-space-size=512 --require ${JSON.stringify(path.join(root, TELEMETRY_PRELOAD))}`);
});
