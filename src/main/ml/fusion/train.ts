import type { TrainSummary } from '../../../shared/jobs.ts';
import { DermFuseError } from '../../../shared/errors.ts';
import type { ProgressFn } from '../../jobs/progress.ts';
import { logger } from '../../log.ts';
import type { Project } from '../../project.ts';
import type { BackendName } from '../tfjs/backend.ts';
import { spawnWorker } from '../../jobs/workers.ts';
import { fusionName, headsName, MODES, type CrossValResult, type FusionInput, type SingleHeads } from './crossval.ts';
import { loadDataset, refuseFinetunedFeatures, type TrainConfig } from './dataset.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';
import type { Evaluation } from './evaluate.ts';
import type { FusionReply, FusionRequest } from './fusionWorker.ts';
import { detectLeakage } from './leakage.ts';
import { repoOf, writeTransaction } from '../../db/open.ts';
import { RunsRepo } from '../../db/repos/runsRepo.ts';
import type { ImportanceRow, PermutationImportance } from '../../../shared/explain.ts';
import type { LeakageWarning } from './leakage.ts';

const log = logger('train');

export interface TrainOptions {
  backend?: BackendName;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

/** What a run reports when it finishes: the contract's train job result. */
export type RunSummary = TrainSummary;

/** The stored result of a run: the summary plus every metric. */
export interface RunResult extends RunSummary {
  evaluation: Evaluation;
  innerScores: Record<string, number>[];
  /** Binary: each fold's decision thresholds per mode (fitted on that fold's training images). */
  foldThresholds?: CrossValResult['thresholds'];
  /** Permutation importance of the fused model's blocks (runs trained before it was computed: absent). */
  importance?: PermutationImportance;
}

/** The headline figures of each mode (what a run's summary and its list show). */
export function modeFigures(evaluation: Evaluation): RunSummary['modes'] {
  const ev = evaluation.modes;
  return Object.fromEntries(
    MODES.map((m) => [m, { auc: ev[m].auc, aucCI: ev[m].aucCI, balancedAccuracy: ev[m].balancedAccuracy, balancedAccuracyCI: ev[m].balancedAccuracyCI }]),
  ) as RunSummary['modes'];
}

/** Permutation importance as the training worker computes it, before the leakage check's flags are added. */
export interface RawImportance {
  auc: number;
  rows: Omit<ImportanceRow, 'leakage'>[];
  resamples: number;
  repeats: number;
}

/**
 * A leakage-warned field "carries most of the skill" when shuffling it costs at least half of the fused model's AUC
 * above chance: the model's success then rests on a field that would not be there (or would differ) at diagnosis.
 */
const MOST_OF_THE_SKILL = 0.5;

/** Adds the leakage flags and, when a warned field carries most of the skill, the warning that says so. */
export function flagImportance(raw: RawImportance, leakage: readonly LeakageWarning[]): PermutationImportance {
  const warned = new Set(leakage.map((w) => w.field));
  const rows = raw.rows.map((r) => ({ ...r, leakage: warned.has(r.block) }));
  const skill = raw.auc - 0.5;
  const carrying = rows.filter((r) => r.leakage && skill > 0 && r.drop >= MOST_OF_THE_SKILL * skill);
  return {
    mode: 'fused',
    auc: raw.auc,
    resamples: raw.resamples,
    repeats: raw.repeats,
    rows,
    warning: carrying.length
      ? `${carrying.map((r) => `"${r.block}"`).join(' and ')} carr${carrying.length > 1 ? 'y' : 'ies'} most of the fused model's skill (shuffling it costs ${carrying.map((r) => r.drop.toFixed(3)).join(', ')} of ${skill.toFixed(3)} AUC above chance), and the leakage check warned about it: the model may be reading the label from how the data was recorded.`
      : null,
  };
}

/**
 * Trains image-only, metadata-only and fused models of a label on one backbone's features, patient-grouped
 * k-fold, in a worker; stores the run (configuration, dataset snapshot, metrics, out-of-fold predictions, final
 * models). A run killed mid-way stays 'running' in the file and is marked interrupted on the next open.
 */
export async function trainRun(project: Project, cfg: TrainConfig, opts: TrainOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const ds = loadDataset(project, cfg);
  refuseFinetunedFeatures(repoOf(project.db, FeatureStore), ds.snapshot.backboneKey);
  const leakage = detectLeakage(ds.fields, ds.meta, ds.labels, ds.classes.length);
  const flagged = new Map(leakage.map((w) => [w.field, w]));
  let chosen: string[];
  const excluded: { field: string; reason: string }[] = [];
  if (cfg.fields) {
    const unknown = cfg.fields.filter((f) => !ds.fields.some((x) => x.name === f));
    if (unknown.length > 0)
      throw new DermFuseError('NOT_FOUND', `--fields: no such metadata field: ${unknown.join(', ')}. Fields: ${ds.fields.map((f) => f.name).join(', ')}.`);
    chosen = cfg.fields;
  } else {
    chosen = ds.fields.filter((f) => f.type !== 'text' && !flagged.has(f.name)).map((f) => f.name);
    for (const f of ds.fields) {
      if (f.type === 'text') excluded.push({ field: f.name, reason: 'free text' });
      else if (flagged.has(f.name)) excluded.push({ field: f.name, reason: flagged.get(f.name)!.message });
    }
  }
  if (chosen.length === 0) throw new DermFuseError('INVALID_ARGUMENT', 'No metadata fields to fuse: name some with --fields.');
  const cols = chosen.map((name) => ds.fields.findIndex((f) => f.name === name));
  const input: FusionInput = {
    n: ds.labels.length,
    imageDim: ds.imageDim,
    imageBlocks: ds.imageBlocks,
    image: ds.image,
    fields: cols.map((j) => ds.fields[j]!),
    meta: ds.meta.map((r) => cols.map((j) => r[j] ?? null)),
    labels: ds.labels,
    classes: ds.classes,
    groups: ds.groups,
    shas: ds.shas,
    folds: cfg.folds,
    seed: cfg.seed,
  };
  const nGroups = new Set(ds.groups).size;
  if (ds.duplicates.merges > 0)
    log.info(`run: ${ds.duplicates.crossedFolds} near-duplicate pairs crossed folds before merging; ${ds.duplicates.merges} merges`);
  if (nGroups < cfg.folds) throw new DermFuseError('INVALID_ARGUMENT', `${cfg.folds} folds need at least ${cfg.folds} ${cfg.group}s; there are ${nGroups}.`);

  const runs = repoOf(project.db, RunsRepo);
  const runId = runs.start(JSON.stringify({ ...cfg, fieldsUsed: chosen }), JSON.stringify(ds.snapshot));
  const fail = (status: 'failed' | 'cancelled', message: string) => runs.stop(runId, status, message);

  const worker = spawnWorker('ml/fusion/fusionWorker');
  const onAbort = () => worker.postMessage({ type: 'stop' } satisfies FusionRequest);
  opts.signal?.addEventListener('abort', onAbort);
  let reply: Extract<FusionReply, { type: 'done' }>;
  try {
    reply = await new Promise((resolve, reject) => {
      worker.on('message', (m: FusionReply) => {
        if (m.type === 'progress') opts.onProgress?.({ phase: 'train', done: m.done, total: m.total, message: m.step });
        else if (m.type === 'done') resolve(m);
        else
          reject(
            m.cancelled
              ? new DermFuseError('CANCELLED', `Run ${runId} cancelled; nothing of it is kept but its record.`)
              : new DermFuseError('INTERNAL', `Training failed: ${m.message}`),
          );
      });
      worker.on('error', (e) => reject(new DermFuseError('INTERNAL', `Training worker crashed: ${e.message}`)));
      worker.on('exit', (code) => code !== 0 && reject(new DermFuseError('INTERNAL', `Training worker exited with code ${code}`)));
      worker.postMessage({ type: 'run', input, backend: opts.backend } satisfies FusionRequest);
    });
  } catch (err) {
    fail(err instanceof DermFuseError && err.code === 'CANCELLED' ? 'cancelled' : 'failed', (err as Error).message);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }

  const { cv, evaluation } = reply;
  const ev = evaluation.modes;
  const result: RunResult = {
    runId,
    task: ds.classes.length === 2 ? 'binary' : 'multiclass',
    label: cfg.label,
    classes: ds.classes,
    folds: cfg.folds,
    groups: nGroups,
    groupBy: cfg.group,
    images: ds.labels.length,
    backbone: ds.snapshot.backboneKey,
    fieldsUsed: chosen,
    fieldsExcluded: excluded,
    leakage,
    duplicates: ds.duplicates,
    consensus: ds.consensus,
    fusion: fusionName(cv.final.fusion),
    fusionPerFold: cv.fusionPerFold,
    heads: headsName({ image: cv.final.image.kind as SingleHeads['image'], metadata: cv.final.metadata.kind as SingleHeads['metadata'] }),
    headsPerFold: cv.headsPerFold,
    modes: modeFigures(evaluation),
    fusedVsImage: evaluation.fusedVsImage,
    fusedVsMetadata: evaluation.fusedVsMetadata,
    fusedBeatsBoth: ev.fused.auc > ev.image.auc && ev.fused.auc > ev.metadata.auc,
    seconds: (performance.now() - started) / 1000,
    timings: cv.timings,
    backend: reply.backend.backend,
    evaluation,
    innerScores: cv.innerScores,
    foldThresholds: cv.thresholds,
    importance: flagImportance(reply.importance, leakage),
  };
  storeRun(project, runId, result, cv, ds.imageIds, ds.labels);
  log.info(`run ${runId}: fused ${ev.fused.auc.toFixed(3)} image ${ev.image.auc.toFixed(3)} metadata ${ev.metadata.auc.toFixed(3)}`);
  return result;
}

/** Writes a finished run: every image's out-of-fold predictions and fold, the final models and the result. */
export function storeRun(project: Project, runId: number, result: RunResult, cv: CrossValResult, imageIds: number[], labels: Int32Array): void {
  const db = project.db;
  const C = result.classes.length;
  const row = (a: Float64Array, i: number) => JSON.stringify(Array.from(a.subarray(i * C, (i + 1) * C), (x) => Math.round(x * 1e6) / 1e6));
  const runs = repoOf(db, RunsRepo);
  writeTransaction(db, () => {
    imageIds.forEach((id, i) =>
      runs.putPrediction(runId, id, cv.fold[i]!, labels[i]!, { image: row(cv.oof.image, i), metadata: row(cv.oof.metadata, i), fused: row(cv.oof.fused, i) }),
    );
    // Typed arrays (PCA mean and components) as plain arrays: JSON would write them as {"0": …} objects.
    const plain = (_k: string, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v);
    runs.finish(runId, JSON.stringify(cv.final, plain), JSON.stringify(result));
  })();
}
