import type { Database } from 'better-sqlite3';

export const version = 3;

/** Training runs: configuration, the dataset as it was at the start, metrics, out-of-fold predictions, final models. */
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled', 'interrupted')),
      pid INTEGER NOT NULL,
      config TEXT NOT NULL,
      -- Label set, class list, newest annotation and metadata edit ids as of the start: what the run saw.
      snapshot TEXT NOT NULL,
      result TEXT,
      error TEXT,
      created_at TEXT NOT NULL,
      finished_at TEXT
    ) STRICT;

    -- Out-of-fold class probabilities (JSON arrays) per image and mode.
    CREATE TABLE run_predictions (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      fold INTEGER NOT NULL,
      label INTEGER NOT NULL,
      image TEXT NOT NULL,
      metadata TEXT NOT NULL,
      fused TEXT NOT NULL,
      PRIMARY KEY (run_id, image_id)
    ) STRICT, WITHOUT ROWID;

    -- The models of each run fitted on all images (PCA, metadata encoder, heads, thresholds) as JSON.
    CREATE TABLE run_models (
      run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
      models TEXT NOT NULL
    ) STRICT;
  `);
}
