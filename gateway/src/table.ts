import type { Domain, Mode, Side } from './domains';

/** One domain's row of the routing table, as stored and versioned. */
export interface RouteRow {
  domain: Domain;
  mode: Mode;
  percent: number;
  version: number;
  updatedAt: string;
  updatedBy: string;
}

/**
 * An immutable snapshot. A request reads the snapshot once, at its start, and keeps its
 * decision: a switch replaces the snapshot, so in-flight requests finish on the side they began.
 */
export interface RouteTable {
  version: number;
  rows: ReadonlyMap<Domain, RouteRow>;
}

export function tableFrom(rows: RouteRow[]): RouteTable {
  const map = new Map<Domain, RouteRow>();
  let version = 0;
  for (const row of rows) {
    map.set(row.domain, Object.freeze({ ...row }));
    version = Math.max(version, row.version);
  }
  return { version, rows: map };
}

/** Used until the database answered once: every declared domain goes to the monolith. */
export const initialTable = (domains: readonly Domain[]): RouteTable =>
  tableFrom(domains.map((domain) => ({ domain, mode: 'monolith' as const, percent: 0, version: 0, updatedAt: new Date(0).toISOString(), updatedBy: 'default' })));

export interface Decision {
  /** Where the client's answer comes from. */
  side: Side;
  mode: Mode;
  bucket?: number;
  /** Shadow mode: the side that receives a copy of safe requests. */
  shadowTo?: Side;
  /** Canary: an unsafe request, sent to the domain's one writer whatever the bucket (ADR 0304). */
  writer?: boolean;
  /** Canary: a read kept on the writer because its user wrote to the domain moments ago (ADR 0304). */
  recentWrite?: boolean;
}

/**
 * The side a mode sends a request to; `bucket` only matters in canary. A canary splits reads
 * only: a domain has one writer until it is switched (ADR 0304), the monolith, which is also
 * where the domain's other writers (checkout's stock reservations) still write. A read whose
 * bucket says the service goes to the writer too when `recentWrite` says its user just wrote.
 */
export function decide(row: RouteRow, bucket: () => number, unsafe = false, recentWrite?: () => boolean): Decision {
  switch (row.mode) {
    case 'monolith':
      return { side: 'monolith', mode: 'monolith' };
    case 'extracted':
      return { side: 'extracted', mode: 'extracted' };
    case 'shadow':
      // The monolith is the reference: it answers, the service is the candidate under test.
      return { side: 'monolith', mode: 'shadow', shadowTo: 'extracted' };
    case 'canary': {
      const b = bucket();
      if (unsafe) return { side: 'monolith', mode: 'canary', bucket: b, writer: true };
      if (b >= row.percent) return { side: 'monolith', mode: 'canary', bucket: b };
      if (recentWrite?.()) return { side: 'monolith', mode: 'canary', bucket: b, recentWrite: true };
      return { side: 'extracted', mode: 'canary', bucket: b };
    }
  }
}
