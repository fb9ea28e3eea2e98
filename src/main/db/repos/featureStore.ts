import { type Db, writeTransaction } from '../open.ts';
import type { BackboneSpec } from '../../ml/backboneSpec.ts';

export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobToVector(b: Buffer): Float32Array {
  // Copy: a Buffer from SQLite may not be 4-byte aligned.
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/** Embeddings of a project, keyed by backbone configuration and image content hash. */
export class FeatureStore {
  constructor(private readonly db: Db) {}

  /** Records a backbone configuration; the folder and digest are kept so a trained model can be exported with it. */
  registerBackbone(key: string, spec: BackboneSpec, dim: number, digest: string | null = null): void {
    this.db
      .prepare(`INSERT INTO backbones (key, name, spec, dim, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`)
      .run(key, spec.name, JSON.stringify({ ...spec, digest }), dim, new Date().toISOString());
  }

  backbone(key: string): { spec: BackboneSpec & { digest: string | null }; dim: number } | undefined {
    const r = this.db.prepare('SELECT spec, dim FROM backbones WHERE key = ?').get(key) as { spec: string; dim: number } | undefined;
    return r ? { spec: JSON.parse(r.spec) as BackboneSpec & { digest: string | null }, dim: r.dim } : undefined;
  }

  /** Content hashes that already have a vector under this key. */
  cachedHashes(key: string): Set<string> {
    return new Set(this.db.prepare('SELECT sha256 FROM features WHERE backbone_key = ?').pluck().all(key) as string[]);
  }

  /** Writes a batch of vectors in one transaction (a kill loses at most the batch in flight). */
  readonly put = (key: string, rows: { sha256: string; vector: Float32Array }[]): void => {
    const stmt = this.db.prepare(
      `INSERT INTO features (backbone_key, sha256, vector, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET vector = excluded.vector`,
    );
    const now = new Date().toISOString();
    writeTransaction(this.db, () => {
      for (const r of rows) stmt.run(key, r.sha256, vectorToBlob(r.vector), now);
    })();
  };

  /**
   * Removes what one extraction stored under `key` (the content hashes it wrote), and with `backbone` the key's
   * record too (its map goes with it): a failed extraction leaves nothing a run could train on.
   */
  discard(key: string, shas: readonly string[], backbone: boolean): void {
    const del = this.db.prepare('DELETE FROM features WHERE backbone_key = ? AND sha256 = ?');
    const drop = this.db.prepare('DELETE FROM backbones WHERE key = ?');
    writeTransaction(this.db, () => {
      for (const sha of shas) del.run(key, sha);
      if (backbone) drop.run(key);
    })();
  }

  /** Backbones with features in this project, most recent first; `ref` picks by key or name. */
  backbones(): { key: string; name: string; dim: number; count: number; created_at: string }[] {
    return this.db
      .prepare(
        `SELECT b.key, b.name, b.dim, b.created_at, (SELECT COUNT(*) FROM features f WHERE f.backbone_key = b.key) AS count
         FROM backbones b ORDER BY b.created_at DESC, b.rowid DESC`,
      )
      .all() as { key: string; name: string; dim: number; count: number; created_at: string }[];
  }

  /** One vector per readable image of the project (image id order), for images that have one under `key`. */
  imageVectors(key: string): { imageId: number; externalId: string; sha256: string; vector: Float32Array }[] {
    const rows = this.db
      .prepare(
        `SELECT i.id, i.external_id, i.sha256, f.vector FROM images i
         JOIN features f ON f.sha256 = i.sha256 AND f.backbone_key = ?
         WHERE i.status = 'ok' ORDER BY i.id`,
      )
      .all(key) as { id: number; external_id: string; sha256: string; vector: Buffer }[];
    return rows.map((r) => ({ imageId: r.id, externalId: r.external_id, sha256: r.sha256, vector: blobToVector(r.vector) }));
  }

  /** The stored 2-D PCA map of a backbone's features, one point per readable image that has one. */
  mapPoints(key: string): { id: number; x: number; y: number }[] {
    return this.db
      .prepare(
        `SELECT i.id, m.x, m.y FROM feature_maps m JOIN images i ON i.sha256 = m.sha256 WHERE m.backbone_key = ? AND m.method = 'pca' AND i.status = 'ok'`,
      )
      .all(key) as { id: number; x: number; y: number }[];
  }

  putMap(key: string, method: 'pca' | 'umap', points: { sha256: string; x: number; y: number }[]): void {
    const del = this.db.prepare('DELETE FROM feature_maps WHERE backbone_key = ? AND method = ?');
    const add = this.db.prepare('INSERT INTO feature_maps (backbone_key, method, sha256, x, y) VALUES (?, ?, ?, ?, ?)');
    writeTransaction(this.db, () => {
      del.run(key, method);
      for (const p of points) add.run(key, method, p.sha256, p.x, p.y);
    })();
  }
}
