import { randomBytes } from 'node:crypto';

/**
 * A RabbitMQ namespace of one test file's own: `test-<label>-<6 hex>.`, the prefix of every
 * exchange and queue the file declares (`BANYAN_MQ_NAMESPACE`, `RELAY_NAMESPACE`, or the
 * `namespace` option of the messaging and relay packages). Files then run in parallel on one
 * broker, and scripts/purge-test-topology.js deletes what a killed run left behind: it matches
 * exactly this shape (packages/testing/test/namespace.test.ts holds the two together), so a name
 * made any other way is never purged, and a name that is not a test's is never deleted.
 *
 * The label says whose leftovers they are; it is lower-cased and anything but letters and digits
 * becomes `-`, as `createTestDatabase` does with its label.
 */
export function testNamespace(label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30)
    .replace(/-+$/, '');
  if (!slug) throw new Error(`testNamespace: the label "${label}" has no letter or digit`);
  return `test-${slug}-${randomBytes(3).toString('hex')}.`;
}
