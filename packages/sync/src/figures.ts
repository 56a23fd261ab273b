import type { Knex } from '@banyan/db';
import type { ProjectionSpec } from '@banyan/migration';
import { comparable, type Difference } from './engine';
import { liveProjection, projectionVersions, requestRebuild, type ProjectionVersion } from './projection';

type Figures = Array<{ key: string } & Record<string, unknown>>;

/**
 * `banyan verify` for a projection domain: the declaration's figures over [from, to], from the
 * monolith module's schema and from the service's live projection version (read in the
 * transaction that key-share-locks it, so a swap cannot drop it meanwhile), compared by key.
 */
export async function verifyFigures(
  spec: ProjectionSpec,
  db: { source: Knex; target: Knex },
  range: { from: string; to: string },
): Promise<{ compared: number; differences: Difference[]; version: number }> {
  const figures = spec.figures;
  if (!figures) throw new Error(`domains.${spec.domain}.projection declares no figures to compare`);
  const source: Figures = await figures(db.source, 'source', { ...range, schema: spec.sourceSchema });
  let version = 0;
  const target: Figures = await db.target.transaction(async (trx) => {
    const live = await liveProjection(trx, spec.schema);
    if (!live) throw new Error(`${spec.domain} has no live projection version yet: is its service started?`);
    version = live.version;
    return figures(trx, 'target', { ...range, schema: live.schema });
  });
  const differences: Difference[] = [];
  const targetByKey = new Map(target.map((row) => [row.key, row]));
  for (const row of source) {
    const other = targetByKey.get(row.key);
    targetByKey.delete(row.key);
    if (!other) {
      differences.push({ table: 'figures', key: row.key, kind: 'missing in target' });
      continue;
    }
    const columns: Record<string, [unknown, unknown]> = {};
    for (const column of new Set([...Object.keys(row), ...Object.keys(other)])) {
      // As verify compares rows: a count one driver returns as '12' and the other as 12 is the same figure.
      if (comparable(row[column]) !== comparable(other[column])) columns[column] = [row[column], other[column]];
    }
    if (Object.keys(columns).length) differences.push({ table: 'figures', key: row.key, kind: 'differs', columns });
  }
  for (const key of targetByKey.keys()) differences.push({ table: 'figures', key, kind: 'missing in source' });
  return { compared: source.length + targetByKey.size, differences, version };
}

export interface RebuildProgress {
  building: ProjectionVersion;
  /** The live version's offset: where the building one must get to (it moves with live events). */
  target: number;
}

/**
 * `banyan backfill` for a projection domain: ask for a new version (or find the one under way, so a
 * second run resumes it) and follow it until it has taken over. The service does the reading
 * (ADR 0341); an interrupted command leaves it working, and running the command again follows it.
 */
export async function rebuildProjection(
  spec: ProjectionSpec,
  target: Knex,
  options: { onProgress?: (p: RebuildProgress) => void; pollMs?: number; stalledAfterMs?: number } = {},
): Promise<ProjectionVersion> {
  const started = await requestRebuild(target, spec.schema);
  let lastOffset = started.offset;
  let movedAt = Date.now();
  for (;;) {
    const versions = await projectionVersions(target, spec.schema);
    const mine = versions.find((v) => v.version === started.version);
    if (!mine) throw new Error(`projection version ${started.version} of ${spec.domain} was dropped before it took over`);
    if (mine.state === 'live') return mine;
    const live = versions.find((v) => v.state === 'live');
    options.onProgress?.({ building: mine, target: live?.offset ?? mine.offset });
    if (mine.offset !== lastOffset) {
      lastOffset = mine.offset;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > (options.stalledAfterMs ?? 30_000) && mine.offset < (live?.offset ?? 0)) {
      throw new Error(`projection version ${mine.version} of ${spec.domain} has not moved for ${Math.round((Date.now() - movedAt) / 1000)} s: is its service running? (it resumes from offset ${mine.offset} when it runs)`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}
