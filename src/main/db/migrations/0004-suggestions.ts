import type { Database } from 'better-sqlite3';

export const version = 4;

/** Predictions of an applied bundle, shown to annotators as suggestions; accepting one writes a normal annotation. */
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE suggestions (
      image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      label TEXT NOT NULL,
      probability REAL NOT NULL,
      bundle TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) STRICT;
  `);
}
