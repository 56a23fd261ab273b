import type { ConnectionSettings } from '@banyan/db';
import type { Logger } from '@banyan/telemetry';
import { coalesced } from './coalesced';
import { writesTo, type WriteFence } from './fence';
import type { Metrics } from './metrics';
import { listenForChanges, type RouteStore } from './store';
import { effectiveRow, initialTable, tableFrom, type RouteTable } from './table';

export interface RoutingStateOptions {
  /** The declared domains, each routed to the monolith until the table is read. */
  domains: readonly string[];
  /** The declared route rules whose requests write (ADR 0213): each fences its own writes. */
  writeRules: ReadonlyArray<{ key: string; domain: string }>;
  store: RouteStore;
  /** The gateway database's settings, for the LISTEN connection. */
  connection: ConnectionSettings;
  logger: Logger;
  metrics: Metrics;
  /** Raised for a domain whose writes a new table sends elsewhere. */
  fence: Pick<WriteFence, 'switched'>;
  /** The table's version changed (the instance heartbeat reports it). */
  onChanged: () => void;
}

/**
 * The routing table this instance routes by: read at start, again on every NOTIFY of a change
 * and on a poll (the safety net for a lost NOTIFY); a newer version replaces it, an older read
 * never does. While the database is unreachable the last known table keeps serving.
 */
export function createRoutingState({ domains, writeRules, store, connection, logger, metrics, fence, onChanged }: RoutingStateOptions) {
  let table = initialTable(domains);
  let loaded = false;
  let databaseReachable = false;
  let poll: NodeJS.Timeout | undefined;

  const swap = (next: RouteTable) => {
    // Never go back: a slow read that started before a newer one finished must not win.
    if (next.version < table.version) return;
    if (next.version !== table.version) logger.info({ version: next.version }, 'routing table updated');
    // A switch of where a domain's writes go raises its fence on this instance, whether the change
    // came by NOTIFY or by the poll. The first read is not a switch: nothing was routed before it.
    if (loaded && next.version !== table.version) {
      for (const [domain, row] of next.rows) {
        const before = table.rows.get(domain);
        if (before && writesTo(before) !== writesTo(row)) fence.switched(domain, before, row);
      }
      // A rule's writes move when its effective row's writer changes: its own switch, or its
      // domain's while it inherits. Its writes are fenced under its key, apart from the domain's.
      for (const { key, domain } of writeRules) {
        const before = effectiveRow(table, domain, key);
        const after = effectiveRow(next, domain, key);
        if (writesTo(before) !== writesTo(after)) fence.switched(key, before, after);
      }
    }
    const changed = next.version !== table.version;
    table = next;
    loaded = true;
    metrics.tableVersion.set(next.version);
    if (changed) onChanged();
  };

  // Reloads are serialised and coalesced: a burst of notifications costs at most two reads.
  const reload = coalesced(async () => {
    try {
      swap(tableFrom(await store.load()));
      if (!databaseReachable) logger.info('routing database reachable');
      databaseReachable = true;
    } catch (err) {
      // Keep serving with the last known table; say so once, not per poll.
      if (databaseReachable || !loaded) logger.error({ err: (err as Error).message }, 'routing database unreachable: serving the last known routing table');
      databaseReachable = false;
    }
  });

  const listener = listenForChanges(connection, () => void reload(), logger);

  return {
    table: (): RouteTable => table,
    isLoaded: () => loaded,
    isDatabaseReachable: () => databaseReachable,
    /** Re-read the routing table now (also what a NOTIFY and the poll trigger). */
    reload,
    /** Load the table, then follow its changes by NOTIFY and every `pollMs`. */
    async start(pollMs: number): Promise<void> {
      await reload();
      await listener.start();
      poll = setInterval(() => void reload(), pollMs);
      poll.unref();
    },
    async stop(): Promise<void> {
      if (poll) clearInterval(poll);
      await listener.stop();
    },
  };
}
