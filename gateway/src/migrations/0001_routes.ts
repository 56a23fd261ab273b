import type { Migration } from '@banyan/db';

export const routes: Migration = {
  name: '0001_routes',
  // A migration is history: it writes out the modes and the channel as they were when it was
  // written (MODES in domains.ts, CHANNEL in store.ts), never reads them. Adding a mode or renaming
  // the channel then takes a new migration that alters the CHECK or the function; reading the
  // live constants would give a fresh database a schema no existing one has, silently.
  async up(knex) {
    await knex.raw(`CREATE SEQUENCE gateway.route_version`);
    await knex.raw(`
          CREATE TABLE gateway.routes (
            domain text PRIMARY KEY,
            mode text NOT NULL CHECK (mode IN ('monolith','extracted','canary','shadow')),
            percent integer NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100),
            version bigint NOT NULL DEFAULT nextval('gateway.route_version'),
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL
          )`);
    await knex.raw(`
          CREATE TABLE gateway.route_audit (
            id bigserial PRIMARY KEY,
            domain text NOT NULL REFERENCES gateway.routes(domain),
            version bigint NOT NULL,
            from_mode text, from_percent integer,
            to_mode text NOT NULL, to_percent integer NOT NULL,
            actor text NOT NULL,
            remote_address text,
            at timestamptz NOT NULL DEFAULT now()
          )`);
    // A trigger rather than a NOTIFY in the application: a change made by hand in psql
    // reaches every gateway too. NOTIFY is delivered at commit, never for a rolled-back change.
    await knex.raw(`
          CREATE FUNCTION gateway.notify_route_change() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            PERFORM pg_notify('banyan_routes', NEW.version::text);
            RETURN NEW;
          END $$`);
    await knex.raw(`
          CREATE TRIGGER routes_changed AFTER INSERT OR UPDATE ON gateway.routes
          FOR EACH ROW EXECUTE FUNCTION gateway.notify_route_change()`);
  },
};
