import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { BackboneSpecSchema, type BackboneSpec } from '../../../shared/backbone.ts';
import { jsonColumn } from '../json.ts';
import { type Db, writeTransaction } from '../open.ts';

export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobToVector(b: Buffer): Float32Array {
  // Copy: a Buffer from SQLite may not be 4-byte aligned.
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/** A stored configuration: names from before the name rule stay readable. */
const StoredSpec = BackboneSpecSchema.extend({ name: z.string(), digest: z.string().nullable().default(null) });
export type StoredBackboneSpec = z.infer<typeof StoredSpec>;

export interface BackboneRow {
  key: string;
  name: string;
  dim: number;
  count: number;
  created_at: string;
}

/** Embeddings of a project, keyed by backbone configuration and image content hash. */
export class FeatureStore {
  private readonly insertBackbone: Statement<[string, string, string, number, string]>;
  private readonly backboneByKey: Statement<[string], { spec: string; dim: number }>;
  private readonly hashes: Statement<[string], string>;
  private readonly upsert: Statement<[string, string, Buffer, string]>;
  private readonly deleteFeature: Statement<[string, string]>;
  private readonly deleteBackbone: Statement<[string]>;
  private readonly all: Statement<[], BackboneRow>;
  private readonly vectors: Statement<[string], { id: number; external_id: string; sha256: string; vector: Buffer }>;
  private readonly points: Statement<[string], { id: number; x: number; y: number }>;
  private readonly deleteMap: Statement<[string, string]>;
  private readonly one: Statement<[string, string], Buffer>;
  private readonly addPoint: Statement<[string, string, string, number, number]>;

  constructor(private readonly db: Db) {
    this.insertBackbone = db.prepare(`INSERT INTO backbones (key, name, spec, dim, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`);
    this.backboneByKey = db.prepare('SELECT spec, dim FROM backbones WHERE key = ?');
    this.hashes = db.prepare<[string], string>('SELECT sha256 FROM features WHERE backbone_key = ?').pluck();
    this.upsert = db.prepare(
      `INSERT INTO features (backbone_key, sha256, vector, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET vector = excluded.vector`,
    );
    this.deleteFeature = db.prepare('DELETE FROM features WHERE backbone_key = ? AND sha256 = ?');
    this.deleteBackbone = db.prepare('DELETE FROM backbones WHERE key = ?');
    this.all = db.prepare(
      `SELECT b.key, b.name, b.dim, b.created_at, (SELECT COUNT(*) FROM features f WHERE f.backbone_key = b.key) AS count
       FROM backbones b ORDER BY b.created_at DESC, b.rowid DESC`,
    );
    this.vectors = db.prepare(
      `SELECT i.id, i.external_id, i.sha256, f.vector FROM images i
       JOIN features f ON f.sha256 = i.sha256 AND f.backbone_key = ?
       WHERE i.status = 'ok' ORDER BY i.id`,
    );
    this.points = db.prepare(
      `SELECT i.id, m.x, m.y FROM feature_maps m JOIN images i ON i.sha256 = m.sha256 WHERE m.backbone_key = ? AND m.method = 'pca' AND i.status = 'ok'`,
    );
    this.deleteMap = db.prepare('DELETE FROM feature_maps WHERE backbone_key = ? AND method = ?');
    this.one = db.prepare<[string, string], Buffer>('SELECT vector FROM features WHERE backbone_key = ? AND sha256 = ?').pluck();
    this.addPoint = db.prepare('INSERT INTO feature_maps (backbone_key, method, sha256, x, y) VALUES (?, ?, ?, ?, ?)');
  }

  /** Records a backbone configuration; the folder and digest are kept so a trained model can be exported with it. */
  registerBackbone(key: string, spec: BackboneSpec, dim: number, digest: string | null = null): void {
    this.insertBackbone.run(key, spec.name, JSON.stringify({ ...spec, digest }), dim, new Date().toISOString());
  }

  backbone(key: string): { spec: StoredBackboneSpec; dim: number } | undefined {
    const r = this.backboneByKey.get(key);
    return r ? { spec: jsonColumn(r.spec, StoredSpec, `Backbone ${key}: its stored configuration`), dim: r.dim } : undefined;
  }

  /** Content hashes that already have a vector under this key. */
  cachedHashes(key: string): Set<string> {
    return new Set(this.hashes.all(key));
  }

  /** Writes a batch of vectors in one transaction (a kill loses at most the batch in flight). */
  readonly put = (key: string, rows: { sha256: string; vector: Float32Array }[]): void => {
    const now = new Date().toISOString();
    writeTransaction(this.db, () => {
      for (const r of rows) this.upsert.run(key, r.sha256, vectorToBlob(r.vector), now);
    })();
  };

  /**
   * Removes what one extraction stored under `key` (the content hashes it wrote), and with `backbone` the key's
   * record too (its map goes with it): a failed extraction leaves nothing a run could train on.
   */
  discard(key: string, shas: readonly string[], backbone: boolean): void {
    writeTransaction(this.db, () => {
      for (const sha of shas) this.deleteFeature.run(key, sha);
      if (backbone) this.deleteBackbone.run(key);
    })();
  }

  /** Backbones with features in this project, most recent first. */
  backbones(): BackboneRow[] {
    return this.all.all();
  }

  /** One vector per readable image of the project (image id order), for images that have one under `key`. */
  imageVectors(key: string): { imageId: number; externalId: string; sha256: string; vector: Float32Array }[] {
    return this.vectors.all(key).map((r) => ({ imageId: r.id, externalId: r.external_id, sha256: r.sha256, vector: blobToVector(r.vector) }));
  }

  /** The vector of one image content under `key`, or undefined when it has none. */
  vector(key: string, sha256: string): Float32Array | undefined {
    const b = this.one.get(key, sha256);
    return b ? blobToVector(b) : undefined;
  }

  /** The stored 2-D PCA map of a backbone's features, one point per readable image that has one. */
  mapPoints(key: string): { id: number; x: number; y: number }[] {
    return this.points.all(key);
  }

  putMap(key: string, method: 'pca' | 'umap', points: { sha256: string; x: number; y: number }[]): void {
    writeTransaction(this.db, () => {
      this.deleteMap.run(key, method);
      for (const p of points) this.addPoint.run(key, method, p.sha256, p.x, p.y);
    })();
  }
}
