import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { testNamespace } from '@banyan/testing';

const ROOT = path.resolve(__dirname, '../../..');

/** The purge CI runs before the tests (plain JavaScript, so it runs before anything is built). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script, not a module of the workspace
const purge = require(path.join(ROOT, 'scripts/purge-test-topology.js')) as { isTestName(name: string): boolean };

describe('testNamespace and the purge of leftover test topology', () => {
  test('When a test asks for a namespace, then it is test-<label>-<6 hex>. and unique to the call', () => {
    const a = testNamespace('consumer');
    expect(a).toMatch(/^test-consumer-[0-9a-f]{6}\.$/);
    expect(testNamespace('consumer')).not.toBe(a);
    expect(testNamespace('Fault 7/A')).toMatch(/^test-fault-7-a-[0-9a-f]{6}\.$/);
    expect(() => testNamespace('…')).toThrow(/no letter or digit/);
  });

  test('When the purge lists the broker, then every exchange and queue under a helper-made namespace is deleted', () => {
    for (const label of ['relay', 'fault-7a', 'crash-loop', 'Products_Sync', 'x'.repeat(40)]) {
      const ns = testNamespace(label);
      for (const name of [`${ns}banyan.events`, `${ns}notification.order.created`, `${ns}notification.order.created.dlq`, `${ns}capture`]) {
        expect([name, purge.isTestName(name)]).toEqual([name, true]);
      }
    }
  });

  test('When a name was not made by the helper, then the purge leaves it alone', () => {
    for (const name of [
      'banyan.events',
      'notification.order.created',
      'amq.direct',
      'test-orders', // someone's queue that merely starts with test-
      'test-results.archive',
      'test.relay.a1b2c3.capture', // the old, unpurged shape
      'test-relay-a1b2c3', // a namespace always ends with '.'
      'test-relay-a1b2c.capture',
      'test-relay-A1B2C3.capture',
      'xtest-relay-a1b2c3.capture',
    ]) {
      expect([name, purge.isTestName(name)]).toEqual([name, false]);
    }
  });

  test('When a test declares exchanges or queues, then its namespace comes from the helper, never written by hand', () => {
    // A namespace written by hand (a template literal starting test. or test-) is how the purge
    // came to miss the relay's, messaging's, telemetry's and notifications' leftovers. Sources
    // (src/) are not tests; the helper itself lives there.
    const handMade: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) {
          if (!['node_modules', 'dist', 'src'].includes(e.name)) walk(rel);
        } else if (/\.(ts|js)$/.test(e.name)) {
          readFileSync(path.join(ROOT, rel), 'utf8')
            .split('\n')
            .forEach((line, i) => /`test[.-][^`]*\$\{/.test(line) && handMade.push(`${rel}:${i + 1}: ${line.trim()}`));
        }
      }
    };
    for (const dir of ['packages', 'monolith', 'gateway', 'extracted', 'docs']) walk(dir);
    expect(handMade).toEqual([]);
  });
});
