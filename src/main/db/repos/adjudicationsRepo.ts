import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { jsonColumn } from '../json.ts';

/** Of a run's stored result, the class names (the rest is read by ml/fusion/runRow.ts). */
const RunClasses = z.looseObject({ classes: z.array(z.string()) });
import type { Db } from '../open.ts';

export interface AdjudicationRow {
  image_id: number;
  annotation_id: number;
  label: string | null;
  reason: string;
  author: string;
  created_at: string;
}

/** Adjudicators' decisions (each also an annotation) and what a run said about an image. */
export class AdjudicationsRepo {
  private readonly insert: Statement<[number, number, number, string, string, string]>;
  private readonly latest: Statement<[number], AdjudicationRow>;
  private readonly newestRun: Statement<[number], { run_id: number; fused: string }>;
  private readonly runResult: Statement<[number], string>;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT INTO adjudications (image_id, label_set_id, annotation_id, reason, author, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.latest = db.prepare(
      `SELECT j.image_id, j.annotation_id, c.name AS label, j.reason, j.author, j.created_at
       FROM adjudications j JOIN annotations a ON a.id = j.annotation_id LEFT JOIN classes c ON c.id = a.class_id
       WHERE j.label_set_id = ? AND j.id = (SELECT MAX(k.id) FROM adjudications k WHERE k.image_id = j.image_id AND k.label_set_id = j.label_set_id)`,
    );
    this.newestRun = db.prepare(
      `SELECT p.run_id, p.fused FROM run_predictions p JOIN runs r ON r.id = p.run_id
       WHERE p.image_id = ? AND r.status = 'done' ORDER BY p.run_id DESC LIMIT 1`,
    );
    this.runResult = db.prepare<[number], string>('SELECT result FROM runs WHERE id = ?').pluck();
  }

  add(imageId: number, labelSetId: number, annotationId: number, reason: string, author: string): void {
    this.insert.run(imageId, labelSetId, annotationId, reason, author, new Date().toISOString());
  }

  /** The latest decision per image of a label set. */
  latestDecisions(labelSetId: number): Map<number, AdjudicationRow> {
    return new Map(this.latest.all(labelSetId).map((r) => [r.image_id, r]));
  }

  /** The newest finished run's out-of-fold fused probabilities for an image (JSON). */
  newestPrediction(imageId: number): { run_id: number; fused: string } | undefined {
    return this.newestRun.get(imageId);
  }

  /** A finished run's class names, from its result. */
  runClasses(runId: number): string[] {
    return jsonColumn(this.runResult.get(runId)!, RunClasses, `Run ${runId}: its stored result`).classes;
  }
}
