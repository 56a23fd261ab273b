import { quoteIdent, type Knex } from '@banyan/db';

/**
 * Blue/green projection versions (ADR 0341): a read model is a numbered version, each in its own
 * schema (`<schema>_v<n>`), built by reading the event history from its first offset. At most one
 * version is `live` (answering reads) and at most one `building`; a building version takes over
 * when it has read the history as far as the live one, in one transaction, and the old one is
 * then dropped. Each version keeps its own stream offset, written in the same transaction as the
 * effects it applied, so a rebuild resumes where it stopped and never applies an event twice.
 */
export type ProjectionState = 'building' | 'live' | 'dropped';

export interface ProjectionVersion {
  version: number;
  state: ProjectionState;
  /** The last history offset applied; -1 before the first. */
  offset: number;
  /** Events applied (duplicates of an event already applied are not counted). */
  applied: number;
  /** The schema holding this version's tables. */
  schema: string;
  /** Which definition of the read models its owner built it with; null until it started it. */
  definition: number | null;
}

const table = (schema: string) => `${quoteIdent(schema)}.projection_versions`;

/** For the owner's migrations: the versions table in the owner's own schema. */
export function projectionVersionsDdl(schema: string): string {
  return `CREATE TABLE ${table(schema)} (
    version integer PRIMARY KEY,
    state text NOT NULL CHECK (state IN ('building', 'live', 'dropped')),
    stream_offset bigint NOT NULL DEFAULT -1,
    applied bigint NOT NULL DEFAULT 0,
    definition integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    live_at timestamptz
  );
  CREATE UNIQUE INDEX projection_versions_one_live ON ${table(schema)} ((true)) WHERE state = 'live';
  CREATE UNIQUE INDEX projection_versions_one_building ON ${table(schema)} ((true)) WHERE state = 'building';`;
}

interface Row {
  version: number;
  state: ProjectionState;
  stream_offset: string;
  applied: string;
  definition?: number | null;
}

const toVersion = (schema: string, r: Row): ProjectionVersion => ({
  version: r.version,
  state: r.state,
  offset: Number(r.stream_offset),
  applied: Number(r.applied),
  schema: `${schema}_v${r.version}`,
  definition: r.definition ?? null,
});

/** Versions not dropped yet, oldest first. */
export async function projectionVersions(db: Knex, schema: string): Promise<ProjectionVersion[]> {
  const { rows } = await db.raw<{ rows: Row[] }>(`SELECT * FROM ${table(schema)} WHERE state <> 'dropped' ORDER BY version`);
  return rows.map((r) => toVersion(schema, r));
}

/**
 * The version answering reads, its row key-share-locked for the caller's transaction: a swap (FOR
 * UPDATE) waits for the reads that started before it, so a version's tables are never dropped
 * under a read, while the version's own progress updates (no key change) do not wait for reads.
 */
export async function liveProjection(trx: Knex.Transaction, schema: string): Promise<ProjectionVersion | undefined> {
  // A read that waited on a swap in flight finds its live row no longer live, and cannot see the
  // new one (its statement's snapshot predates the swap): it finds nothing. Asked again, a new
  // snapshot (READ COMMITTED) sees the new live version. Found by the rebuild test's watcher.
  for (let attempt = 0; attempt < 3; attempt++) {
    const { rows } = await trx.raw<{ rows: Row[] }>(`SELECT * FROM ${table(schema)} WHERE state = 'live' FOR KEY SHARE`);
    if (rows[0]) return toVersion(schema, rows[0]);
  }
  return undefined;
}

/**
 * Ask for a rebuild: the building version if one is under way (a rebuild interrupted is resumed,
 * not restarted), else a new one numbered after every earlier version, `live` at once when there
 * is no live version to keep serving.
 */
export function requestRebuild(db: Knex, schema: string): Promise<ProjectionVersion> {
  return newVersion(db, schema, 'building');
}

/** The owner's start: the live version, or a first one (live at once, empty until it has read the history). */
export function ensureLiveProjection(db: Knex, schema: string): Promise<ProjectionVersion> {
  return newVersion(db, schema, 'live');
}

async function newVersion(db: Knex, schema: string, unless: 'building' | 'live'): Promise<ProjectionVersion> {
  return db.transaction(async (trx) => {
    // Two callers at once (two service instances starting) must not both create one.
    await trx.raw(`LOCK TABLE ${table(schema)} IN SHARE ROW EXCLUSIVE MODE`);
    const { rows } = await trx.raw<{ rows: Row[] }>(`SELECT * FROM ${table(schema)} WHERE state IN ('building', 'live') ORDER BY version`);
    const existing = rows.find((r) => r.state === unless);
    if (existing) return toVersion(schema, existing);
    const state = rows.some((r) => r.state === 'live') ? 'building' : 'live';
    const { rows: created } = await trx.raw<{ rows: Row[] }>(
      `INSERT INTO ${table(schema)} (version, state, live_at)
       SELECT coalesce(max(version), 0) + 1, ?, CASE WHEN ? = 'live' THEN now() END FROM ${table(schema)}
       RETURNING *`,
      [state, state],
    );
    return toVersion(schema, created[0]);
  });
}

/**
 * The definition a version is built with: the one it has, or `definition` (the owner's newest) for
 * a version not started yet. A live version keeps its definition while a newer one is built beside
 * it, which is how a changed definition goes live blue/green.
 */
export async function claimDefinition(db: Knex, schema: string, version: number, definition: number): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ definition: number }> }>(
    `UPDATE ${table(schema)} SET definition = coalesce(definition, ?) WHERE version = ? RETURNING definition`,
    [definition, version],
  );
  return rows[0]?.definition ?? definition;
}

/** Record how far a version has read, in the transaction that applied those events. */
export async function recordProgress(trx: Knex.Transaction, schema: string, version: number, offset: number, applied: number): Promise<void> {
  await trx.raw(`UPDATE ${table(schema)} SET stream_offset = ?, applied = applied + ? WHERE version = ?`, [offset, applied, version]);
}

/**
 * Let the building version take over if it has read the history at least as far as the live one:
 * both read the same stream, so from then on it holds every event the live one does. Returns the
 * version that stopped serving (its tables are the caller's to drop), or nothing.
 */
export async function promoteIfCaughtUp(db: Knex, schema: string): Promise<{ promoted: ProjectionVersion; retired: ProjectionVersion } | undefined> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: Row[] }>(`SELECT * FROM ${table(schema)} WHERE state IN ('building', 'live') ORDER BY version FOR UPDATE`);
    const building = rows.find((r) => r.state === 'building');
    const live = rows.find((r) => r.state === 'live');
    if (!building || !live || Number(building.stream_offset) < Number(live.stream_offset)) return undefined;
    // Dropped first: the one-live index must never see two.
    await trx.raw(`UPDATE ${table(schema)} SET state = 'dropped' WHERE version = ?`, [live.version]);
    await trx.raw(`UPDATE ${table(schema)} SET state = 'live', live_at = now() WHERE version = ?`, [building.version]);
    return { promoted: toVersion(schema, { ...building, state: 'live' }), retired: toVersion(schema, { ...live, state: 'dropped' }) };
  });
}
