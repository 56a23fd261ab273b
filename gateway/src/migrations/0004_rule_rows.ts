import type { Migration } from '@banyan/db';

export const ruleRows: Migration = {
  // Route rules (ADR 0213) keep their rows in gateway.routes beside the domains', keyed
  // `domain#rule`, so they share the version sequence, the NOTIFY trigger and the audit. A rule
  // row that inherits follows its domain's row; its own mode and percent are then unused. In the
  // audit, a change to or from inheriting says 'inherit' as its mode (route_audit has no CHECK).
  name: '0004_rule_rows',
  async up(knex) {
    await knex.raw(`ALTER TABLE gateway.routes ADD COLUMN inherit boolean NOT NULL DEFAULT false`);
  },
};
