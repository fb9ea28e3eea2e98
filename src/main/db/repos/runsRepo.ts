import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';
import type { GroupBy } from '../../../shared/jobs.ts';

/** A row of `runs` as stored: configuration, snapshot and result are JSON (parsed by ml/fusion/runRow.ts). */
export interface RunRow {
  id: number;
  status: string;
  config: string;
  snapshot: string;
  result: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/**
 * SQL for an image's cross-validation group (over `images i`, `patients p`, `lesions le`): its patient, else its
 * lesion, else the image itself; the same unit the bootstrap resamples.
 */
export function groupExpression(group: GroupBy): string {
  return group === 'patient'
    ? 'COALESCE(p.external_id, le.external_id, i.external_id)'
    : group === 'lesion'
      ? 'COALESCE(le.external_id, i.external_id)'
      : 'i.external_id';
}

/** One image's stored out-of-fold prediction: probabilities per mode as JSON arrays. */
export interface PredictionRow {
  image_id: number;
  external_id: string;
  fold: number;
  label: number;
  image: string;
  metadata: string;
  fused: string;
}

/** Training runs: their rows, fitted models, and the runs of processes that died. */
export class RunsRepo {
  private readonly all: Statement<[], RunRow>;
  private readonly one: Statement<[number], RunRow>;
  private readonly modelsJson: Statement<[number], string>;
  private readonly running: Statement<[], { id: number; pid: number }>;
  private readonly interrupt: Statement<[string, number]>;
  private readonly insert: Statement<[number, string, string, string]>;
  private readonly end: Statement<[string, string, string, number]>;
  private readonly setSnapshot: Statement<[string, number]>;
  private readonly addPrediction: Statement<[number, number, number, number, string, string, string]>;
  private readonly addModels: Statement<[number, string]>;
  private readonly done: Statement<[string, string, number]>;
  private readonly labels: Statement<[number, number], { id: number; trained: number; name: string | null }>;
  private readonly predictionRows: Statement<[number], PredictionRow>;

  constructor(private readonly db: Db) {
    this.all = db.prepare('SELECT * FROM runs ORDER BY id DESC');
    this.predictionRows = db.prepare(
      'SELECT p.image_id, i.external_id, p.fold, p.label, p.image, p.metadata, p.fused FROM run_predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? ORDER BY i.external_id',
    );
    this.labels = db.prepare(
      'SELECT p.image_id AS id, p.label AS trained, c.name FROM run_predictions p LEFT JOIN current_labels l ON l.image_id = p.image_id AND l.label_set_id = ? LEFT JOIN classes c ON c.id = l.class_id WHERE p.run_id = ?',
    );
    this.one = db.prepare('SELECT * FROM runs WHERE id = ?');
    this.modelsJson = db.prepare<[number], string>('SELECT models FROM run_models WHERE run_id = ?').pluck();
    this.running = db.prepare(`SELECT id, pid FROM runs WHERE status = 'running'`);
    this.interrupt = db.prepare(`UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ?`);
    this.insert = db.prepare(`INSERT INTO runs (status, pid, config, snapshot, created_at) VALUES ('running', ?, ?, ?, ?)`);
    this.end = db.prepare(`UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?`);
    this.setSnapshot = db.prepare('UPDATE runs SET snapshot = ? WHERE id = ?');
    this.addPrediction = db.prepare('INSERT INTO run_predictions (run_id, image_id, fold, label, image, metadata, fused) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.addModels = db.prepare('INSERT INTO run_models (run_id, models) VALUES (?, ?)');
    this.done = db.prepare(`UPDATE runs SET status = 'done', result = ?, finished_at = ? WHERE id = ?`);
  }

  /** Every run, newest first. */
  list(): RunRow[] {
    return this.all.all();
  }

  get(id: number): RunRow | undefined {
    return this.one.get(id);
  }

  /** The final models of a finished run, as stored JSON; undefined when it did not finish. */
  models(runId: number): string | undefined {
    return this.modelsJson.get(runId);
  }

  /** Records a run as running in this process, with its configuration and dataset snapshot (JSON); returns its id. */
  start(config: string, snapshot: string): number {
    return Number(this.insert.run(process.pid, config, snapshot, new Date().toISOString()).lastInsertRowid);
  }

  /** Replaces a running run's snapshot (a fine-tuned run learns its backbone's key only once its network is written). */
  resnapshot(id: number, snapshot: string): void {
    this.setSnapshot.run(snapshot, id);
  }

  /** A run that ended without results. */
  stop(id: number, status: 'failed' | 'cancelled', message: string): void {
    this.end.run(status, message, new Date().toISOString(), id);
  }

  /** One image's out-of-fold prediction (JSON probabilities per mode). Call inside the finishing transaction. */
  putPrediction(runId: number, imageId: number, fold: number, label: number, probs: { image: string; metadata: string; fused: string }): void {
    this.addPrediction.run(runId, imageId, fold, label, probs.image, probs.metadata, probs.fused);
  }

  /** The run's final models and result; it is done. Call inside the finishing transaction, after its predictions. */
  finish(runId: number, models: string, result: string): void {
    this.addModels.run(runId, models);
    this.done.run(result, new Date().toISOString(), runId);
  }

  /** A run's out-of-fold predictions (JSON per mode), in image-id text order. */
  predictions(runId: number): PredictionRow[] {
    return this.predictionRows.all(runId);
  }

  /** The bootstrap unit (patient, else lesion, else image, as the run grouped) of each of a run's images. */
  groupUnits(runId: number, group: GroupBy): { id: number; grp: string }[] {
    return this.db
      .prepare(
        `SELECT i.id, ${groupExpression(group)} AS grp FROM run_predictions r JOIN images i ON i.id = r.image_id
         LEFT JOIN patients p ON p.id = i.patient_id LEFT JOIN lesions le ON le.id = i.lesion_id WHERE r.run_id = ?`,
      )
      .all(runId) as { id: number; grp: string }[];
  }

  /** Each of a run's images with the label it trained on (a run class index) and its label in the set now. */
  labelsNow(runId: number, labelSetId: number): { id: number; trained: number; name: string | null }[] {
    return this.labels.all(labelSetId, runId);
  }

  /** Runs marked running, with the process that runs them. */
  runningRuns(): { id: number; pid: number }[] {
    return this.running.all();
  }

  markInterrupted(id: number, at: string): void {
    this.interrupt.run(at, id);
  }
}
