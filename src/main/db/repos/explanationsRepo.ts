import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

/** The key of a cached occlusion map. */
export interface OcclusionKey {
  runId: number;
  imageId: number;
  mode: 'image' | 'fused';
  className: string;
  grid: number;
  /** Hash of the encoded metadata row the map was computed with ('' when the map does not use metadata). */
  metaHash: string;
}

/**
 * Cached occlusion maps (the map as JSON), valid while the image's content hash and its encoded metadata (for a fused
 * map) are the ones they were computed on.
 */
export class ExplanationsRepo {
  private readonly getStmt: Statement<[number, number, string, string, number, string, string], string>;
  private readonly putStmt: Statement<[number, number, string, string, number, string, string, string, string]>;

  constructor(db: Db) {
    this.getStmt = db
      .prepare<[number, number, string, string, number, string, string], string>(
        'SELECT map FROM occlusion_maps WHERE run_id = ? AND image_id = ? AND mode = ? AND class = ? AND grid = ? AND sha256 = ? AND meta_hash = ?',
      )
      .pluck();
    this.putStmt = db.prepare(
      `INSERT INTO occlusion_maps (run_id, image_id, mode, class, grid, sha256, meta_hash, map, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, image_id, mode, class, grid)
       DO UPDATE SET sha256 = excluded.sha256, meta_hash = excluded.meta_hash, map = excluded.map, created_at = excluded.created_at`,
    );
  }

  /** The cached map's JSON, or undefined when there is none for this content and metadata. */
  get(k: OcclusionKey, sha256: string): string | undefined {
    return this.getStmt.get(k.runId, k.imageId, k.mode, k.className, k.grid, sha256, k.metaHash);
  }

  /** One statement: a map is stored whole or not at all. */
  put(k: OcclusionKey, sha256: string, map: string, at: string): void {
    this.putStmt.run(k.runId, k.imageId, k.mode, k.className, k.grid, sha256, k.metaHash, map, at);
  }
}
