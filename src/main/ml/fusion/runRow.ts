import { DermFuseError } from '../../../shared/errors.ts';
import { repoOf } from '../../db/open.ts';
import { RunsRepo, type RunRow } from '../../db/repos/runsRepo.ts';
import type { Project } from '../../project.ts';
import type { Snapshot, TrainConfig } from './dataset.ts';
import type { RunResult } from './train.ts';

export type { RunRow } from '../../db/repos/runsRepo.ts';

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
  return repoOf(project.db, RunsRepo).list();
}

/** One run's row; NOT_FOUND naming the run when there is none. */
export function runRow(project: Project, runId: number): RunRow {
  const r = repoOf(project.db, RunsRepo).get(runId);
  if (!r) throw new DermFuseError('NOT_FOUND', `No run ${runId} in this project (see dermfuse runs).`);
  return r;
}
