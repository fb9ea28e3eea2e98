import { DermFuseError } from '../../../shared/errors.ts';
import { jsonColumn } from '../../db/json.ts';
import { repoOf } from '../../db/open.ts';
import { RunsRepo, type RunRow } from '../../db/repos/runsRepo.ts';
import type { Project } from '../../project.ts';
import { SnapshotSchema, TrainConfigSchema, type Snapshot, type TrainConfig } from './dataset.ts';
import { z } from 'zod';
import { MODES, type Mode } from '../../../shared/results.ts';
import type { RunResult } from './train.ts';

export type { RunRow } from '../../db/repos/runsRepo.ts';

/** The JSON columns of a run, parsed. */
export interface ParsedRun {
  cfg: TrainConfig & { fieldsUsed: string[] };
  snap: Snapshot;
  result: RunResult | null;
}

const StoredConfig = TrainConfigSchema.extend({ fieldsUsed: z.array(z.string()) });
// Loose objects throughout: the checked fields must be there, and nothing else is dropped.
const MODE_METRICS = z.looseObject({ auc: z.number(), aucCI: z.tuple([z.number(), z.number()]), balancedAccuracy: z.number() });
const PAIRED = z.looseObject({ difference: z.number(), ci: z.tuple([z.number(), z.number()]), p: z.number() });
const perMode = <T extends z.ZodType>(t: T) => z.looseObject(Object.fromEntries(MODES.map((m) => [m, t])) as Record<Mode, T>);
/** A fine-tuned run's comparison with its frozen run (finetune/finetuneRun.ts writes it; lists and the report read it). */
const STORED_FINETUNE = z.looseObject({
  baselineRunId: z.number().int(),
  cut: z.string(),
  trainedConvolutions: z.number().int(),
  totalConvolutions: z.number().int(),
  views: z.number().int(),
  bestEpochs: z.array(z.number().int()),
  frozen: perMode(MODE_METRICS),
  vsFrozen: perMode(PAIRED),
});
/** The parts of a stored result every reader relies on; the rest (evaluation, timings) is carried as written. */
const StoredResult = z.looseObject({
  runId: z.number().int(),
  task: z.enum(['binary', 'multiclass']),
  classes: z.array(z.string()).min(2),
  modes: perMode(MODE_METRICS),
  evaluation: z.looseObject({}),
  finetune: STORED_FINETUNE.optional(),
});

function column<T>(r: RunRow, name: string, json: string, schema: z.ZodType<T>): T {
  return jsonColumn(json, schema, `Run ${r.id}: its stored ${name}`);
}

/** The JSON columns of a run, checked against their schemas: a damaged row is an error naming the run and the field. */
export function parseRun(r: RunRow): ParsedRun {
  return {
    cfg: column(r, 'configuration', r.config, StoredConfig),
    snap: column(r, 'snapshot', r.snapshot, SnapshotSchema),
    // The checked envelope plus the evaluation arrays as train.ts wrote them.
    result: r.result ? (column(r, 'result', r.result, StoredResult) as unknown as RunResult) : null,
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
