import { isIPv6 } from 'node:net';

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** An IPv6 address's eight groups, `::` filled in and an embedded IPv4 tail counted as two. */
function groupsOf(address: string): string[] {
  const split = (part: string) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const [head, tail] = address.split('::');
  if (tail === undefined) return split(head);
  const [before, after] = [split(head), split(tail)];
  return [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
}

/**
 * The address a per-address limit counts. An IPv4-mapped IPv6 address (what a dual-stack socket
 * reports) is its IPv4 address. Other IPv6 addresses count by their /64: one subscriber usually
 * holds a whole /64 and could otherwise take a fresh address for every attempt.
 */
export function countedAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = IPV4_MAPPED.exec(address);
  if (mapped) return mapped[1];
  const bare = address.split('%')[0];
  if (!isIPv6(bare)) return address;
  const prefix = groupsOf(bare)
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
