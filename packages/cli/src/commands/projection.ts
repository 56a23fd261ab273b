import { Presets, SingleBar } from 'cli-progress';
import type { ProjectionSpec } from '@banyan/migration';
import { connectDomain, rebuildProjection, verifyFigures } from '@banyan/sync';

/** A projection domain's databases, as connectDomain takes a data spec (no tables to copy). */
const connect = (spec: ProjectionSpec) => connectDomain({ domain: spec.domain, sourceDatabase: spec.sourceDatabase, targetDatabase: spec.targetDatabase, tables: [] });

/**
 * `banyan backfill <domain>` for a domain declared with a projection: a new projection version
 * rebuilt from the event history by the service, followed here until it has taken over (ADR 0110).
 */
export async function backfillProjection(spec: ProjectionSpec): Promise<void> {
  const db = connect(spec);
  const bar = process.stdout.isTTY ? new SingleBar({ format: ' version {version} [{bar}] {value}/{total} history offsets, {applied} events' }, Presets.shades_classic) : undefined;
  let shown = false;
  try {
    const done = await rebuildProjection(spec, db.target, {
      onProgress: ({ building, target }) => {
        if (!bar) return;
        const payload = { version: building.version, applied: building.applied };
        if (!shown) bar.start(target + 1, building.offset + 1, payload);
        else {
          bar.setTotal(target + 1);
          bar.update(building.offset + 1, payload);
        }
        shown = true;
      },
    });
    bar?.stop();
    console.log(`${spec.domain}: projection version ${done.version} rebuilt from the event history: ${done.applied} events applied up to offset ${done.offset}, now live in ${db.targetName}; the version it replaced is dropped`);
  } finally {
    bar?.stop();
    await db.close();
  }
}

/** `banyan verify <domain>` for a projection domain: the declared figures of both sides over a date range. */
export async function verifyProjection(spec: ProjectionSpec, range: { from: string; to: string }, max: number): Promise<void> {
  const db = connect(spec);
  try {
    const { compared, differences, version } = await verifyFigures(spec, db, range);
    for (const d of differences.slice(0, max)) {
      const detail = d.columns ? ' ' + Object.entries(d.columns).map(([c, [a, b]]) => `${c}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`).join(', ') : '';
      console.log(`${d.key}: ${d.kind}${detail}`);
    }
    if (differences.length > max) console.log(`… and ${differences.length - max} more`);
    console.log(
      `${spec.domain}: ${compared} figures compared from ${range.from} to ${range.to}, ${differences.length} difference${differences.length === 1 ? '' : 's'} (${db.sourceName} vs ${db.targetName}, projection version ${version})`,
    );
    if (differences.length) process.exitCode = 1;
  } finally {
    await db.close();
  }
}
