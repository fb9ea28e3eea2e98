import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

export interface ValidationRowDb {
  id: number;
  run_id: number;
  created_at: string;
  source: string;
  images: number;
  report: string;
}

/** Stored external validations of runs (the report as JSON). */
export class ValidationsRepo {
  private readonly insert: Statement<[number, string, string, number, string]>;
  private readonly byRun: Statement<[number], ValidationRowDb>;
  private readonly byId: Statement<[number], ValidationRowDb>;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT INTO validations (run_id, created_at, source, images, report) VALUES (?, ?, ?, ?, ?)');
    this.byRun = db.prepare('SELECT * FROM validations WHERE run_id = ? ORDER BY id DESC');
    this.byId = db.prepare('SELECT * FROM validations WHERE id = ?');
  }

  add(runId: number, createdAt: string, source: string, images: number, report: string): number {
    return Number(this.insert.run(runId, createdAt, source, images, report).lastInsertRowid);
  }

  /** A run's validations, newest first. */
  ofRun(runId: number): ValidationRowDb[] {
    return this.byRun.all(runId);
  }

  get(id: number): ValidationRowDb | undefined {
    return this.byId.get(id);
  }
}
