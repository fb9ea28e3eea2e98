import type { Database } from 'better-sqlite3';

export const version = 9;

/**
 * Occlusion maps, cached per run, image, mode and explained class (and grid): computing one embeds 65 copies of the
 * photo. The image's content hash is kept so a photo changed on disk since is computed again, never served stale.
 */
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE occlusion_maps (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      mode TEXT NOT NULL CHECK (mode IN ('image', 'fused')),
      class TEXT NOT NULL,
      grid INTEGER NOT NULL CHECK (grid BETWEEN 2 AND 32),
      sha256 TEXT NOT NULL,
      map TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (run_id, image_id, mode, class, grid)
    ) STRICT;
  `);
}
