import type { Database } from 'better-sqlite3';

export const version = 12;

/**
 * External validations of a run: the report (figures, shift, per-image predictions) as JSON, with where the external
 * images came from and how many, for the run's list without reading every report.
 */
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE validations (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      source TEXT NOT NULL,
      images INTEGER NOT NULL,
      report TEXT NOT NULL
    ) STRICT;
    CREATE INDEX validations_run ON validations(run_id);
  `);
}
