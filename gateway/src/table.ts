import type { Domain, Mode, Side } from './domains';

/** One domain's row of the routing table, as stored and versioned. */
export interface RouteRow {
  domain: Domain;
  mode: Mode;
  percent: number;
  version: number;
  updatedAt: string;
  updatedBy: string;
  /** A route rule's row (ADR 0213) that follows its domain's row: its own mode and percent are unused. */
  inherit?: boolean;
}

/**
 * An immutable snapshot. A request reads the snapshot once, at its start, and keeps its
 * decision: a switch replaces the snapshot, so in-flight requests finish on the side they began.
 */
export interface RouteTable {
  version: number;
  rows: ReadonlyMap<Domain, RouteRow>;
  /** Route rules' rows by key (`domain#rule`, ADR 0213); a rule without a row inherits. */
  rules: ReadonlyMap<string, RouteRow>;
}

export function tableFrom(rows: RouteRow[]): RouteTable {
  const map = new Map<Domain, RouteRow>();
  const rules = new Map<string, RouteRow>();
  let version = 0;
  for (const row of rows) {
    (row.domain.includes('#') ? rules : map).set(row.domain, Object.freeze({ ...row }));
    version = Math.max(version, row.version);
  }
  return { version, rows: map, rules };
}

/**
 * The row that decides a request: its rule's own row when it matched a rule that does not
 * inherit, else its domain's. `key` is the rule's (`domain#rule`) or the domain's.
 */
export function effectiveRow(table: RouteTable, domain: Domain, key: string): RouteRow {
  if (key !== domain) {
    const rule = table.rules.get(key);
    if (rule && !rule.inherit) return rule;
  }
  return table.rows.get(domain)!;
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
