import type { Database } from 'better-sqlite3';

export const version = 6;

/**
 * Data quality: perceptual hashes per image (kept while the file's content is the same, so a scan after an import
 * hashes only the new images), the near-duplicate pairs of the last scan, the annotators' decisions on them
 * (append-only: the latest decision on a pair holds, earlier ones are its history), and per-image scores (how
 * typical the image is among the others; its place in the "label next" order).
 */
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE image_hashes (
      image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      sha256 TEXT NOT NULL,
      phash BLOB NOT NULL,
      -- Standard deviation of the 32 x 32 grey image: a blank frame has next to none.
      contrast REAL NOT NULL
    ) STRICT;

    CREATE TABLE near_duplicates (
      a INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      b INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      hash_bits INTEGER NOT NULL,
      cosine REAL,
      score REAL NOT NULL,
      PRIMARY KEY (a, b),
      CHECK (a < b)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE duplicate_reviews (
      id INTEGER PRIMARY KEY,
      a INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      b INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      decision TEXT NOT NULL CHECK (decision IN ('same', 'different')),
      author TEXT NOT NULL,
      created_at TEXT NOT NULL,
      CHECK (a < b)
    ) STRICT;
    CREATE INDEX duplicate_reviews_pair ON duplicate_reviews(a, b, id);

    CREATE TABLE image_scores (
      image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      typicality REAL,
      outlier_rank INTEGER,
      label_next INTEGER
    ) STRICT;
  `);
}
