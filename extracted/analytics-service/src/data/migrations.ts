import type { Migration, SchemaOwner } from '@banyan/db';

/**
 * Only the projection versions table lives here (@banyan/sync's projectionVersionsDdl, written out:
 * migrations are history): the read models themselves are in one schema per version
 * (`analytics_v<n>`, data/projection-tables.ts), created when a version is started and dropped
 * when the next one takes over (ADR 0341).
 */
const migrations: Migration[] = [
  {
    name: '001_projection_versions',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE analytics.projection_versions (
          version integer PRIMARY KEY,
          state text NOT NULL CHECK (state IN ('building', 'live', 'dropped')),
          stream_offset bigint NOT NULL DEFAULT -1,
          applied bigint NOT NULL DEFAULT 0,
          created_at timestamptz NOT NULL DEFAULT now(),
          live_at timestamptz
        );
        CREATE UNIQUE INDEX projection_versions_one_live ON analytics.projection_versions ((true)) WHERE state = 'live';
        CREATE UNIQUE INDEX projection_versions_one_building ON analytics.projection_versions ((true)) WHERE state = 'building';
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE analytics.projection_versions');
    },
  },
  {
    // Which definition of the read models each version was built with (ADR 0341): versions built
    // before this column had only the first.
    name: '002_projection_definition',
    async up(knex) {
      await knex.raw(`
        ALTER TABLE analytics.projection_versions ADD COLUMN definition integer;
        UPDATE analytics.projection_versions SET definition = 1 WHERE state <> 'dropped';
      `);
    },
    async down(knex) {
      await knex.raw('ALTER TABLE analytics.projection_versions DROP COLUMN definition');
    },
  },
];

export const analyticsSchema: SchemaOwner = { schema: 'analytics', migrations };
