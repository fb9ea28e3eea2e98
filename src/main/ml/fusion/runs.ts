import { DermFuseError } from '../../../shared/errors.ts';
import type { Project } from '../../project.ts';
import type { FinalModels } from './crossval.ts';
import type { Snapshot, TrainConfig } from './dataset.ts';
import type { RunResult } from './train.ts';
import { staleImageCount } from '../../results/runData.ts';

interface RunRow {
  id: number;
  status: string;
  config: string;
  snapshot: string;
  result: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** True when some of the run's images carry a different label now (a relabel): its metrics describe older labels. */
export function isStale(project: Project, runId: number): boolean {
  return staleImageCount(project, runId) > 0;
}

export function listRuns(project: Project) {
  const rows = project.db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RunRow[];
  return rows.map((r) => {
    const cfg = JSON.parse(r.config) as TrainConfig & { fieldsUsed: string[] };
    const snap = JSON.parse(r.snapshot) as Snapshot;
    const res = r.result ? (JSON.parse(r.result) as RunResult) : null;
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
      stale: r.status === 'done' ? isStale(project, r.id) : false,
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
  const r = project.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
  if (!r) throw new DermFuseError('NOT_FOUND', `No run ${runId} in this project (see dermfuse runs).`);
  const snap = JSON.parse(r.snapshot) as Snapshot;
  return {
    runId: r.id,
    status: r.status,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    config: JSON.parse(r.config) as TrainConfig,
    snapshot: snap,
    stale: r.status === 'done' ? isStale(project, r.id) : false,
    result: r.result ? (JSON.parse(r.result) as RunResult) : null,
    error: r.error,
  };
}
