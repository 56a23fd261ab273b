-- The library's own tables, as it has always had them: created at start if missing.
CREATE TABLE IF NOT EXISTS books (
  id uuid PRIMARY KEY,
  isbn text NOT NULL,
  title text NOT NULL,
  author text NOT NULL,
  copies integer NOT NULL CHECK (copies >= 0)
);

CREATE TABLE IF NOT EXISTS loans (
  id uuid PRIMARY KEY,
  book_id uuid NOT NULL,
  member text NOT NULL,
  borrowed_on date NOT NULL DEFAULT current_date,
  returned_on date
);

-- Added when Banyan was adopted: the book's version, which is the sequence of its latest
-- book.saved event, so either side of the two-way sync can tell which of two copies is newer.
ALTER TABLE books ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 0;
