import type { Database } from 'better-sqlite3';

export const version = 10;

/**
 * A fused model's occlusion map depends on the image's metadata as well as its photo: each cached map keeps a hash
 * of the encoded metadata row it was computed with (`meta_hash`; '' for an image-only map or a model without
 * metadata inputs), so a map is never served after the image's metadata was edited. Fused maps cached before this
 * version carry '' and are computed again on their next use (their metadata is not known).
 */
export function up(db: Database): void {
  db.exec(`
    ALTER TABLE occlusion_maps ADD COLUMN meta_hash TEXT NOT NULL DEFAULT '';
    DELETE FROM occlusion_maps WHERE mode = 'fused';
  `);
}
