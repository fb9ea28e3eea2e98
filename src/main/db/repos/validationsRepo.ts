import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { MODES, type Mode } from '../../../shared/results.ts';
import type { ValidationReport } from '../../../shared/validation.ts';
import { jsonColumn } from '../json.ts';
import type { Db } from '../open.ts';

export interface ValidationRowDb {
  id: number;
  run_id: number;
  created_at: string;
  source: string;
  images: number;
  report: string;
}

const interval = z.object({ value: z.number().nullable(), ci: z.tuple([z.number().nullable(), z.number().nullable()]) });
const MODE = z.looseObject({ auc: interval });
/** The parts of a stored report every reader relies on; the rest is carried as written. */
const StoredReport = z.looseObject({
  runId: z.number().int(),
  classes: z.array(z.string()).min(2),
  modes: z.looseObject(Object.fromEntries(MODES.map((m) => [m, MODE])) as Record<Mode, typeof MODE>),
  shift: z.looseObject({ images: z.looseObject({ auc: interval }).nullable() }),
  rows: z.array(z.looseObject({ externalId: z.string(), label: z.string(), truth: z.string() })),
});

/** A stored validation's report, checked. */
export function validationReport(r: ValidationRowDb): ValidationReport {
  return jsonColumn(r.report, StoredReport, `Validation ${r.id}: its report`) as unknown as ValidationReport;
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

  /** Every stored validation report of a run, oldest first (the model card lists them all). */
  reportsOf(runId: number): ValidationReport[] {
    return this.byRun.all(runId).reverse().map(validationReport);
  }

  get(id: number): ValidationRowDb | undefined {
    return this.byId.get(id);
  }
}
