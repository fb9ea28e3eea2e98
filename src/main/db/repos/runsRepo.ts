import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

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

/** Training runs: their rows, fitted models, and the runs of processes that died. */
export class RunsRepo {
  private readonly all: Statement<[], RunRow>;
  private readonly one: Statement<[number], RunRow>;
  private readonly modelsJson: Statement<[number], string>;
  private readonly running: Statement<[], { id: number; pid: number }>;
  private readonly interrupt: Statement<[string, number]>;

  constructor(db: Db) {
    this.all = db.prepare('SELECT * FROM runs ORDER BY id DESC');
    this.one = db.prepare('SELECT * FROM runs WHERE id = ?');
    this.modelsJson = db.prepare<[number], string>('SELECT models FROM run_models WHERE run_id = ?').pluck();
    this.running = db.prepare(`SELECT id, pid FROM runs WHERE status = 'running'`);
    this.interrupt = db.prepare(`UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ?`);
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

  /** Runs marked running, with the process that runs them. */
  runningRuns(): { id: number; pid: number }[] {
    return this.running.all();
  }

  markInterrupted(id: number, at: string): void {
    this.interrupt.run(at, id);
  }
}
