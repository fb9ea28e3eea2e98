import type { Statement } from 'better-sqlite3';
import type { DuplicateDecision } from '../../../shared/quality.ts';
import type { Db } from '../open.ts';

export interface PairRow {
  a: number;
  b: number;
  hash_bits: number;
  cosine: number | null;
  score: number;
}

export interface HashRow {
  image_id: number;
  sha256: string;
  phash: Buffer;
  contrast: number;
}

/** Image facts a duplicate group shows: ids, file, patient, lesion, current label of the primary label set. */
export interface MemberRow {
  id: number;
  external_id: string;
  sha256: string | null;
  patient: string | null;
  lesion: string | null;
  label: string | null;
}

/** Perceptual hashes, near-duplicate pairs and their reviews, and per-image quality scores. */
export class QualityRepo {
  private readonly hashRows: Statement<[], HashRow>;
  private readonly putHash: Statement<[number, string, Buffer, number]>;
  private readonly toHash: Statement<[], { id: number; path: string; thumb: string | null; sha256: string }>;
  private readonly clearPairs: Statement<[]>;
  private readonly putPair: Statement<[number, number, number, number | null, number]>;
  private readonly pairRows: Statement<[], PairRow>;
  private readonly addReview: Statement<[number, number, DuplicateDecision, string, string]>;
  private readonly latestReviews: Statement<[], { a: number; b: number; decision: DuplicateDecision; author: string; created_at: string }>;
  private readonly clearScores: Statement<[]>;
  private readonly putScore: Statement<[number, number | null, number | null]>;
  private readonly setLabelNext: Statement<[number, number]>;
  private readonly clearLabelNext: Statement<[]>;
  private readonly members: Statement<[string], MemberRow>;
  private readonly scoreRows: Statement<[], { image_id: number; outlier_rank: number | null; label_next: number | null }>;

  constructor(private readonly db: Db) {
    this.hashRows = db.prepare('SELECT image_id, sha256, phash, contrast FROM image_hashes ORDER BY image_id');
    this.putHash = db.prepare(
      'INSERT INTO image_hashes (image_id, sha256, phash, contrast) VALUES (?, ?, ?, ?) ON CONFLICT (image_id) DO UPDATE SET sha256 = excluded.sha256, phash = excluded.phash, contrast = excluded.contrast',
    );
    this.toHash = db.prepare(
      `SELECT i.id, i.path, i.thumb, i.sha256 FROM images i LEFT JOIN image_hashes h ON h.image_id = i.id
       WHERE i.status = 'ok' AND i.sha256 IS NOT NULL AND (h.sha256 IS NULL OR h.sha256 <> i.sha256) ORDER BY i.id`,
    );
    this.clearPairs = db.prepare('DELETE FROM near_duplicates');
    this.putPair = db.prepare('INSERT INTO near_duplicates (a, b, hash_bits, cosine, score) VALUES (?, ?, ?, ?, ?)');
    this.pairRows = db.prepare('SELECT a, b, hash_bits, cosine, score FROM near_duplicates ORDER BY a, b');
    this.addReview = db.prepare('INSERT INTO duplicate_reviews (a, b, decision, author, created_at) VALUES (?, ?, ?, ?, ?)');
    this.latestReviews = db.prepare(
      `SELECT a, b, decision, author, created_at FROM duplicate_reviews r
       WHERE r.id = (SELECT MAX(id) FROM duplicate_reviews x WHERE x.a = r.a AND x.b = r.b)`,
    );
    this.clearScores = db.prepare('UPDATE image_scores SET typicality = NULL, outlier_rank = NULL');
    this.putScore = db.prepare(
      `INSERT INTO image_scores (image_id, typicality, outlier_rank) VALUES (?, ?, ?)
       ON CONFLICT (image_id) DO UPDATE SET typicality = excluded.typicality, outlier_rank = excluded.outlier_rank`,
    );
    this.setLabelNext = db.prepare(
      'INSERT INTO image_scores (image_id, label_next) VALUES (?, ?) ON CONFLICT (image_id) DO UPDATE SET label_next = excluded.label_next',
    );
    this.clearLabelNext = db.prepare('UPDATE image_scores SET label_next = NULL');
    this.scoreRows = db.prepare('SELECT image_id, outlier_rank, label_next FROM image_scores');
    this.members = db.prepare(
      `SELECT i.id, i.external_id, i.sha256, p.external_id AS patient, l.external_id AS lesion, c.name AS label
       FROM json_each(?) j JOIN images i ON i.id = j.value
       LEFT JOIN patients p ON p.id = i.patient_id LEFT JOIN lesions l ON l.id = i.lesion_id
       LEFT JOIN label_sets s ON s.id = (SELECT id FROM label_sets ORDER BY is_primary DESC, id LIMIT 1)
       LEFT JOIN current_labels cl ON cl.image_id = i.id AND cl.label_set_id = s.id
       LEFT JOIN classes c ON c.id = cl.class_id
       ORDER BY i.id`,
    );
  }

  /** Images without a hash of their current content (new, or changed since they were hashed). */
  imagesToHash(): { id: number; path: string; thumb: string | null; sha256: string }[] {
    return this.toHash.all();
  }

  /** The stored hashes of images that are still in the project, by image id. */
  hashes(): HashRow[] {
    return this.hashRows.all();
  }

  putHashes(rows: readonly { id: number; sha256: string; phash: Buffer; contrast: number }[]): void {
    this.db.transaction(() => rows.forEach((r) => this.putHash.run(r.id, r.sha256, r.phash, r.contrast)))();
  }

  /** Replaces the pairs and outlier scores of the last scan, in one transaction. */
  replaceScan(pairs: readonly PairRow[], scores: readonly { id: number; typicality: number | null; rank: number | null }[]): void {
    this.db.transaction(() => {
      this.clearPairs.run();
      for (const p of pairs) this.putPair.run(p.a, p.b, p.hash_bits, p.cosine, p.score);
      this.clearScores.run();
      for (const s of scores) this.putScore.run(s.id, s.typicality, s.rank);
    })();
  }

  pairs(): PairRow[] {
    return this.pairRows.all();
  }

  /** Records decisions on pairs (ids in any order), all or none. */
  review(pairs: readonly { a: number; b: number }[], decision: DuplicateDecision, author: string): void {
    const at = new Date().toISOString();
    this.db.transaction(() => pairs.forEach((p) => this.addReview.run(Math.min(p.a, p.b), Math.max(p.a, p.b), decision, author, at)))();
  }

  /** The latest decision on each reviewed pair. */
  reviews(): { a: number; b: number; decision: DuplicateDecision; author: string; created_at: string }[] {
    return this.latestReviews.all();
  }

  /**
   * Which pairs join images for cross-validation: every pair confirmed as the same lesion, and, unless only confirmed
   * ones are asked for, every pair of the last scan nobody has decided on.
   */
  duplicateEdges(include: 'confirmed' | 'unreviewed'): { a: number; b: number }[] {
    const reviews = this.reviews();
    const decided = new Set(reviews.map((r) => `${r.a}:${r.b}`));
    const edges = reviews.filter((r) => r.decision === 'same').map((r) => ({ a: r.a, b: r.b }));
    if (include === 'unreviewed') for (const p of this.pairs()) if (!decided.has(`${p.a}:${p.b}`)) edges.push({ a: p.a, b: p.b });
    return edges;
  }

  /** Sets the "label next" order (1 = first); images not listed lose their place. */
  putLabelNext(order: readonly number[]): void {
    this.db.transaction(() => {
      this.clearLabelNext.run();
      order.forEach((id, i) => this.setLabelNext.run(id, i + 1));
    })();
  }

  /** Each scored image's outlier rank (1 = most unusual) and place in the "label next" order. */
  scores(): { image_id: number; outlier_rank: number | null; label_next: number | null }[] {
    return this.scoreRows.all();
  }

  memberRows(ids: readonly number[]): MemberRow[] {
    return this.members.all(JSON.stringify(ids));
  }
}
