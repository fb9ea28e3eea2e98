import { DermFuseError } from '../../../shared/errors.ts';
import type { Project } from '../../project.ts';
import type { Snapshot, TrainConfig } from './dataset.ts';
import type { RunResult } from './train.ts';

/** A row of `runs` as stored: configuration, snapshot and result are JSON. */
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

/** The JSON columns of a run, parsed. */
export interface ParsedRun {
  cfg: TrainConfig & { fieldsUsed: string[] };
  snap: Snapshot;
  result: RunResult | null;
}

export function parseRun(r: RunRow): ParsedRun {
  return {
    cfg: JSON.parse(r.config) as ParsedRun['cfg'],
    snap: JSON.parse(r.snapshot) as Snapshot,
    result: r.result ? (JSON.parse(r.result) as RunResult) : null,
  };
}

export function allRunRows(project: Project): RunRow[] {
  return project.db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RunRow[];
}

/** One run's row; NOT_FOUND naming the run when there is none. */
export function runRow(project: Project, runId: number): RunRow {
  const r = project.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
  if (!r) throw new DermFuseError('NOT_FOUND', `No run ${runId} in this project (see dermfuse runs).`);
  return r;
}
