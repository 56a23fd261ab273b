-- The books service's own database: the monolith's books table, moved (the backfill fills it).
CREATE TABLE IF NOT EXISTS books (
  id uuid PRIMARY KEY,
  isbn text NOT NULL,
  title text NOT NULL,
  author text NOT NULL,
  copies integer NOT NULL CHECK (copies >= 0),
  version integer NOT NULL DEFAULT 0
);
