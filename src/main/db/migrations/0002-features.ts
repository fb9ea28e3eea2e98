import type { Database } from 'better-sqlite3';

export const version = 2;

/** CNN embeddings keyed by image content hash and backbone configuration, plus their 2-D map. */
export function up(db: Database): void {
  db.exec(`
    -- A backbone configuration: the model, its feature output and preprocessing. key is a hash of all of it,
    -- so a change of layer, input size, value range, resize mode or TTA is a different key.
    CREATE TABLE backbones (
      key TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      spec TEXT NOT NULL,
      dim INTEGER NOT NULL,
      created_at TEXT NOT NULL
    ) STRICT;

    -- Float32 little-endian vectors; byte-identical images share one row.
    CREATE TABLE features (
      backbone_key TEXT NOT NULL REFERENCES backbones(key) ON DELETE CASCADE,
      sha256 TEXT NOT NULL,
      vector BLOB NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (backbone_key, sha256)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE feature_maps (
      backbone_key TEXT NOT NULL REFERENCES backbones(key) ON DELETE CASCADE,
      method TEXT NOT NULL CHECK (method IN ('pca', 'umap')),
      sha256 TEXT NOT NULL,
      x REAL NOT NULL,
      y REAL NOT NULL,
      PRIMARY KEY (backbone_key, method, sha256)
    ) STRICT, WITHOUT ROWID;
  `);
}
