import type { Migration, SchemaOwner } from '@banyan/db';
import { projectionVersionsDdl } from '@banyan/sync';

export const ANALYTICS_SCHEMA = 'analytics';

/**
 * Only the projection versions table lives here: the read models themselves are in one schema per
 * version (`analytics_v<n>`, data/projection-tables.ts), created when a version is started and
 * dropped when the next one takes over (ADR 0110).
 */
const migrations: Migration[] = [
  {
    name: '001_projection_versions',
    async up(knex) {
      await knex.raw(projectionVersionsDdl(ANALYTICS_SCHEMA));
    },
    async down(knex) {
      await knex.raw('DROP TABLE analytics.projection_versions');
    },
  },
];

export const analyticsSchema: SchemaOwner = { schema: ANALYTICS_SCHEMA, migrations };
