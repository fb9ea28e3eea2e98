import { DermFuseError } from '../../../shared/errors.ts';
import { z } from 'zod';
import { jsonColumn } from '../../db/json.ts';

/** A stored prediction: one probability per class. */
const probabilities = (classes: number) => z.array(z.number()).length(classes);
import type { FieldValue } from '../../../shared/types.ts';
import { repoOf } from '../../db/open.ts';
import { FieldsRepo } from '../../db/repos/fieldsRepo.ts';
import { RunsRepo } from '../../db/repos/runsRepo.ts';
import { MODES, runClassOf, type Mode } from '../../../shared/results.ts';
import type { Project } from '../../project.ts';
import { parseRun, runRow, type ParsedRun, type RunRow } from './runRow.ts';
import type { RunResult } from './train.ts';

/** A finished run's stored out-of-fold predictions, in the order of its images. */
export interface RunData {
  runId: number;
  row: RunRow;
  cfg: ParsedRun['cfg'];
  result: RunResult;
  classes: string[];
  labelSetId: number;
  imageIds: number[];
  externalIds: string[];
  fold: Int32Array;
  labels: Int32Array;
  probs: Record<Mode, Float64Array>;
}

export function loadRunData(project: Project, runId: number): RunData {
  const row = runRow(project, runId);
  const { cfg, snap, result } = parseRun(row);
  if (row.status !== 'done' || !result) throw new DermFuseError('NOT_FOUND', `Run ${runId} is ${row.status}: only finished runs have results.`);
  const C = result.classes.length;
  const preds = repoOf(project.db, RunsRepo).predictions(runId);
  const probs = Object.fromEntries(MODES.map((m) => [m, new Float64Array(preds.length * C)])) as Record<Mode, Float64Array>;
  preds.forEach((p, i) => {
    for (const m of MODES) probs[m].set(jsonColumn(p[m], probabilities(C), `Run ${runId}: a stored ${m} prediction`), i * C);
  });
  return {
    runId,
    row,
    cfg,
    result,
    classes: result.classes,
    labelSetId: snap.labelSetId,
    imageIds: preds.map((p) => p.image_id),
    externalIds: preds.map((p) => p.external_id),
    fold: Int32Array.from(preds, (p) => p.fold),
    labels: Int32Array.from(preds, (p) => p.label),
    probs,
  };
}

/**
 * The class each mode predicted for each image: binary with the threshold of the fold the image was tested in
 * (as the run's own confusion matrix), multiclass the most probable class. Runs stored before fold thresholds were
 * kept fall back to 0.5.
 */
export function predictedClasses(d: RunData, mode: Mode): Int32Array {
  const C = d.classes.length;
  const p = d.probs[mode];
  const th = d.result.foldThresholds;
  return Int32Array.from(d.labels, (_, i) => {
    if (C === 2) return p[i * 2 + 1]! >= (th?.[d.fold[i]!]?.[mode] ?? 0.5) ? 1 : 0;
    let best = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c]! > p[i * C + best]!) best = c;
    return best;
  });
}

/** The bootstrap unit of each of the run's images, in RunData order: grouped as the run grouped its folds. */
export function bootstrapUnits(project: Project, d: RunData): string[] {
  const rows = repoOf(project.db, RunsRepo).groupUnits(d.runId, d.cfg.group);
  const unit = new Map(rows.map((r) => [r.id, r.grp]));
  return d.imageIds.map((id) => unit.get(id)!);
}

/** Current labels of the run's images (null: cleared), by image id. */
export function currentLabels(project: Project, runId: number, labelSetId: number): Map<number, string | null> {
  const rows = repoOf(project.db, RunsRepo).labelsNow(runId, labelSetId);
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** How many of a run's images now carry a different label than the run trained on (a "keep label" changes nothing). */
export function staleImageCount(project: Project, row: RunRow): number {
  const { cfg, snap, result } = parseRun(row);
  if (row.status !== 'done' || !result) return 0;
  const rows = repoOf(project.db, RunsRepo).labelsNow(row.id, snap.labelSetId);
  return rows.filter((r) => runClassOf(cfg.positive, result.classes, r.name) !== r.trained).length;
}

/** Metadata values of the run's images, now, for every field (subgroups, case lists, the map). */
export function metadataOf(project: Project, imageIds: number[]): { fields: { name: string; type: string }[]; rows: FieldValue[][] } {
  const repo = repoOf(project.db, FieldsRepo);
  const fields = repo.list();
  return { fields: fields.map((f) => ({ name: f.name, type: f.type })), rows: repo.rows(imageIds, fields) };
}
