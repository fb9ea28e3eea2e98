import { DermFuseError } from '../../../shared/errors.ts';
import { z } from 'zod';
import { jsonColumn } from '../../db/json.ts';

/** The fitted models' envelope (each part is carried as train.ts wrote it). */
const StoredModels = z.looseObject({
  pca: z.looseObject({}),
  encoder: z.looseObject({}),
  image: z.looseObject({}),
  metadata: z.looseObject({}),
  fusion: z.unknown(),
  fused: z.looseObject({}).nullable(),
  thresholds: z.record(z.string(), z.number()),
});
import { MODES, type RunListItem } from '../../../shared/results.ts';
import { repoOf } from '../../db/open.ts';
import { RunsRepo } from '../../db/repos/runsRepo.ts';
import type { Project } from '../../project.ts';
import type { FinalModels } from './crossval.ts';
import { allRunRows, parseRun, runRow, type RunRow } from './runRow.ts';
import { staleImageCount } from './runData.ts';

/** A run as every list shows it (the UI's runs panel and `dermfuse runs`): configuration, headline AUCs with intervals, staleness. */
export function runListItem(project: Project, r: RunRow): RunListItem {
  const { cfg, snap, result: res } = parseRun(r);
  const iv = (value: number, ci: [number, number]) => ({ value, ci });
  return {
    runId: r.id,
    status: r.status,
    createdAt: r.created_at,
    label: cfg.label,
    positive: cfg.positive,
    fields: cfg.fieldsUsed,
    folds: cfg.folds,
    group: cfg.group,
    seed: cfg.seed,
    backbone: snap.backboneKey,
    images: snap.images,
    task: res?.task ?? null,
    fusion: res?.fusion ?? null,
    heads: res?.heads ?? null,
    modes: res
      ? (Object.fromEntries(
          MODES.map((m) => [
            m,
            { auc: iv(res.modes[m].auc, res.modes[m].aucCI), balancedAccuracy: iv(res.modes[m].balancedAccuracy, res.modes[m].balancedAccuracyCI) },
          ]),
        ) as RunListItem['modes'])
      : null,
    staleImages: staleImageCount(project, r),
    error: r.error,
    finetune: res?.finetune ?? null,
  };
}

/** Every run of the project, newest first. */
export function runList(project: Project): RunListItem[] {
  return allRunRows(project).map((r) => runListItem(project, r));
}

/** The models of a finished run fitted on all its images (PCA, encoder, heads, fusion, thresholds). */
export function runModels(project: Project, runId: number): FinalModels {
  const json = repoOf(project.db, RunsRepo).models(runId);
  if (!json) throw new DermFuseError('NOT_FOUND', `Run ${runId} has no fitted models (it did not finish).`);
  return jsonColumn(json, StoredModels, `Run ${runId}: its stored models`) as unknown as FinalModels;
}

/** Everything about one run: configuration, snapshot, all metrics. */
export function runReport(project: Project, runId: number) {
  const r = runRow(project, runId);
  const { cfg, snap, result } = parseRun(r);
  return {
    runId: r.id,
    status: r.status,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    config: cfg,
    snapshot: snap,
    staleImages: staleImageCount(project, r),
    result,
    error: r.error,
  };
}
