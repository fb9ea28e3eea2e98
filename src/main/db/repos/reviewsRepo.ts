import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

/** Decisions of the label-error review: keep or relabel, per run and image, with the annotation they made. */
export class ReviewsRepo {
  private readonly insert: Statement<[number, number, string, number, string, string]>;
  private readonly ofRun: Statement<[number], { image_id: number; decision: 'keep' | 'relabel' }>;

  constructor(db: Db) {
    this.insert = db.prepare(`INSERT INTO label_reviews (image_id, run_id, decision, annotation_id, author, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
    this.ofRun = db.prepare('SELECT image_id, decision FROM label_reviews WHERE run_id = ? ORDER BY id');
  }

  add(imageId: number, runId: number, decision: 'keep' | 'relabel', annotationId: number, author: string): void {
    this.insert.run(imageId, runId, decision, annotationId, author, new Date().toISOString());
  }

  /** The decisions taken on a run's images, oldest first (a later one overrides an earlier). */
  ofRunImages(runId: number): { image_id: number; decision: 'keep' | 'relabel' }[] {
    return this.ofRun.all(runId);
  }
}
