import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { ConnectionSettings, Knex, SchemaOwner } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import type { Domain, Mode } from './domains';
import { migrations } from './migrations';
import type { RouteRow } from './table';

export const CHANNEL = 'banyan_routes';

export const gatewaySchema: SchemaOwner = {
  schema: 'gateway',
  migrations,
};

export interface RouteChange {
  mode: Mode;
  percent: number;
  /** A route rule's row only: follow the domain's row (mode and percent unused). */
  inherit?: boolean;
  actor: string;
  remoteAddress?: string;
  /** Why, when the change is not a plain one: a forced switch's failed checks, a ramp's step or rollback. */
  note?: string;
}

/** A mode as the audit shows it: a route rule that follows its domain says 'inherit'. */
export type AuditMode = Mode | 'inherit';

export interface AuditEntry {
  domain: Domain;
  /** The route rule changed (ADR 0213); absent for a change of the domain's own row. */
  rule?: string;
  version: number;
  from: { mode: AuditMode; percent: number } | null;
  to: { mode: AuditMode; percent: number };
  actor: string;
  remoteAddress: string | null;
  /** A forced switch's failed checks, a ramp's step or its rollback with the figures that decided it. */
  note?: string;
  at: string;
}

interface RouteRecord {
  domain: Domain;
  mode: Mode;
  percent: number;
  version: string;
  updated_at: Date;
  updated_by: string;
  inherit: boolean;
}

const toRow = (r: RouteRecord): RouteRow => ({
  domain: r.domain,
  mode: r.mode,
  percent: r.percent,
  version: Number(r.version),
  updatedAt: r.updated_at.toISOString(),
  updatedBy: r.updated_by,
  ...(r.domain.includes('#') ? { inherit: r.inherit } : {}),
});

/**
 * The routing table's persistence: the only module with SQL. Rows of the declared `domains` only:
 * a domain taken out of the declaration keeps its row (and its audit), unread, so declaring it
 * again finds its mode where it was left.
 */
export function createRouteStore(knex: Knex, domains: readonly Domain[], ruleKeys: readonly string[] = []) {
  const declared = new Set([...domains, ...ruleKeys]);
  return {
    /** Every declared domain and route rule (inheriting) gets a row on first start; existing rows are left as they are. */
    async seed(): Promise<void> {
      await knex('gateway.routes')
        .insert([
          ...domains.map((domain) => ({ domain, mode: 'monolith', percent: 0, updated_by: 'seed' })),
          ...ruleKeys.map((domain) => ({ domain, mode: 'monolith', percent: 0, inherit: true, updated_by: 'seed' })),
        ])
        .onConflict('domain')
        .ignore();
    },

    async load(): Promise<RouteRow[]> {
      const rows: RouteRecord[] = await knex('gateway.routes').select('*').orderBy('domain');
      return rows.filter((r) => declared.has(r.domain)).map(toRow);
    },

    /** Apply a change, bump the version and audit it in one transaction. Unchanged → no new version. */
    async update(domain: Domain, change: RouteChange, within?: Knex.Transaction): Promise<{ row: RouteRow; changed: boolean }> {
      const inherit = change.inherit ?? false;
      // An inheriting rule's own mode and percent are unused: stored as the seed's.
      const mode = inherit ? 'monolith' : change.mode;
      const percent = inherit ? 0 : change.percent;
      // Inside a caller's transaction (a ramp's step, decided under its row's lock) or its own.
      const transaction = <T>(work: (trx: Knex.Transaction) => Promise<T>) => (within ? work(within) : knex.transaction(work));
      return transaction(async (trx) => {
        const current: RouteRecord | undefined = await trx('gateway.routes').where({ domain }).forUpdate().first();
        if (current && current.inherit === inherit && current.mode === mode && current.percent === percent) return { row: toRow(current), changed: false };
        const [updated]: RouteRecord[] = await trx('gateway.routes')
          .insert({ domain, mode, percent, inherit, updated_by: change.actor })
          .onConflict('domain')
          .merge({ mode, percent, inherit, updated_by: change.actor, updated_at: trx.fn.now(), version: trx.raw(`nextval('gateway.route_version')`) })
          .returning('*');
        await trx('gateway.route_audit').insert({
          domain,
          version: updated.version,
          from_mode: current ? (current.inherit ? 'inherit' : current.mode) : null,
          from_percent: current?.percent ?? null,
          to_mode: inherit ? 'inherit' : mode,
          to_percent: percent,
          actor: change.actor,
          remote_address: change.remoteAddress ?? null,
          note: change.note ?? null,
        });
        return { row: toRow(updated), changed: true };
      });
    },

    /** This instance's heartbeat: the version it routes by, the domains it still writes to an old side. */
    async reportInstance(id: string, tableVersion: number, writingOld: Domain[]): Promise<void> {
      await knex('gateway.instances')
        .insert({ id, table_version: tableVersion, writing_old: writingOld, seen_at: knex.fn.now() })
        .onConflict('id')
        .merge({ table_version: tableVersion, writing_old: writingOld, seen_at: knex.fn.now() });
    },

    /** The shared key called `name`, created (32 random bytes) by the first instance that asks. */
    async sharedKey(name: string): Promise<Buffer> {
      await knex('gateway.keys').insert({ name, key: randomBytes(32) }).onConflict('name').ignore();
      const row: { key: Buffer } = await knex('gateway.keys').where({ name }).first('key');
      return row.key;
    },

    async forgetInstance(id: string): Promise<void> {
      await knex('gateway.instances').where({ id }).delete();
    },

    /** Rows of instances silent for longer than `ms` (crashed ones): housekeeping at start. */
    async forgetSilentInstances(ms: number): Promise<void> {
      await knex('gateway.instances').where('seen_at', '<', knex.raw(`now() - make_interval(secs => ?)`, [ms / 1000])).delete();
    },

    /**
     * The other live instances (a heartbeat within `liveMs`) that may still send `domain`'s writes
     * to the side the switch at `version` moved them from: they have not loaded that version yet,
     * or they still have such writes in flight. Silent ones are left out (and forgotten at start).
     */
    async instancesWritingOld(selfId: string, domain: Domain, version: number, liveMs: number): Promise<string[]> {
      const rows: Array<{ id: string }> = await knex('gateway.instances')
        .whereNot({ id: selfId })
        .andWhere('seen_at', '>=', knex.raw(`now() - make_interval(secs => ?)`, [liveMs / 1000]))
        .andWhere((q) => q.where('table_version', '<', version).orWhereRaw('? = ANY(writing_old)', [domain]))
        .select('id');
      return rows.map((r) => r.id);
    },

    async audit(domain?: Domain, limit = 50): Promise<AuditEntry[]> {
      const rows = await knex('gateway.route_audit')
        // A domain's entries include its route rules' (`domain#rule`).
        .modify((q) => (domain ? q.where((w) => w.where({ domain }).orWhere('domain', 'like', `${domain}#%`)) : q))
        .orderBy('id', 'desc')
        .limit(limit);
      return rows.map((r: Record<string, any>) => ({
        domain: String(r.domain).split('#')[0],
        ...(String(r.domain).includes('#') ? { rule: String(r.domain).split('#')[1] } : {}),
        version: Number(r.version),
        from: r.from_mode ? { mode: r.from_mode, percent: r.from_percent } : null,
        to: { mode: r.to_mode, percent: r.to_percent },
        actor: r.actor,
        remoteAddress: r.remote_address,
        ...(r.note ? { note: r.note } : {}),
        at: new Date(r.at).toISOString(),
      }));
    },
  };
}

export type RouteStore = ReturnType<typeof createRouteStore>;

/**
 * LISTEN on a dedicated connection (a pooled one could be handed to a query and lose the
 * subscription). When the connection breaks it reconnects with backoff and calls `onChange`
 * once reconnected, since notifications sent meanwhile are lost.
 */
export function listenForChanges(settings: ConnectionSettings, onChange: () => void, logger: Logger) {
  let client: Client | undefined;
  let stopped = false;
  let delay = 250;
  let timer: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (stopped) return;
    const c = new Client({ ...settings, application_name: 'banyan-gateway-listen' });
    c.on('error', () => undefined); // 'end' follows and schedules the reconnect
    c.on('end', () => {
      if (client === c) client = undefined;
      schedule();
    });
    c.on('notification', () => onChange());
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      if (stopped) return void c.end().catch(() => undefined);
      client = c;
      if (delay > 250) logger.info('route change subscription restored');
      delay = 250;
      onChange();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'route change subscription failed; retrying');
      c.removeAllListeners('end');
      c.end().catch(() => undefined);
      schedule();
    }
  };
  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, 5_000);
  };

  return {
    start: connect,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
