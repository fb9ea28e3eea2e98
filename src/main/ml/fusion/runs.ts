import { DermFuseError } from '../../../shared/errors.ts';
import type { Project } from '../../project.ts';
import type { FinalModels } from './crossval.ts';
import { allRunRows, parseRun, runRow, type RunRow } from './runRow.ts';
import { staleImageCount } from './runData.ts';

/** True when some of the run's images carry a different label now (a relabel): its metrics describe older labels. */
export function isStale(project: Project, r: RunRow): boolean {
  return staleImageCount(project, r) > 0;
}

export function listRuns(project: Project) {
  return allRunRows(project).map((r) => {
    const { cfg, snap, result: res } = parseRun(r);
    return {
      runId: r.id,
      status: r.status,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
      label: cfg.label,
      positive: cfg.positive,
      fields: cfg.fieldsUsed,
      backbone: snap.backboneKey,
      images: snap.images,
      task: res?.task ?? null,
      fusion: res?.fusion ?? null,
      auc: res ? { image: res.modes.image.auc, metadata: res.modes.metadata.auc, fused: res.modes.fused.auc } : null,
      stale: isStale(project, r),
      error: r.error,
    };
  });
}

/** The models of a finished run fitted on all its images (PCA, encoder, heads, fusion, thresholds). */
export function runModels(project: Project, runId: number): FinalModels {
  const json = project.db.prepare('SELECT models FROM run_models WHERE run_id = ?').pluck().get(runId) as string | undefined;
  if (!json) throw new DermFuseError('NOT_FOUND', `Run ${runId} has no fitted models (it did not finish).`);
  return JSON.parse(json) as FinalModels;
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
    stale: isStale(project, r),
    result,
    error: r.error,
  };
}
