import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import { MODES, type Mode } from '../../shared/results.ts';
import type { FieldValue } from '../../shared/types.ts';
import type { ValidateRequest, ValidationReport } from '../../shared/validation.ts';
import { repoOf } from '../db/open.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import { FieldsRepo } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import { RunsRepo } from '../db/repos/runsRepo.ts';
import { ValidationsRepo } from '../db/repos/validationsRepo.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import { applyModels } from '../ml/fusion/apply.ts';
import { IMAGE_COMPONENTS, type FinalModels } from '../ml/fusion/crossval.ts';
import { imageFeatures } from '../ml/fusion/dataset.ts';
import { auc } from '../ml/fusion/metrics.ts';
import { bootstrapUnits, loadRunData, predictedClasses } from '../ml/fusion/runData.ts';
import { runModels } from '../ml/fusion/runs.ts';
import { parseRun } from '../ml/fusion/runRow.ts';
import { subgroupTable } from '../ml/fusion/subgroups.ts';
import { initBackend } from '../ml/tfjs/backend.ts';
import type { Project } from '../project.ts';
import {
  externalGrouping,
  IMAGE_LEVEL_WARNING,
  importProblemsWarning,
  openExternal,
  readExternal,
  trainingPhotos,
  trainingPhotosWarning,
} from './externalSet.ts';
import { bootstrapModes, decideAll, differences, externalLabelIssues, externalModes, type ScoredSet } from './externalMetrics.ts';
import { externalFeatures } from './features.ts';
import { mapExternal, type RunSide } from './mapping.ts';
import { recalibrate } from './recalibrate.ts';
import { fieldShifts, imageShift, prevalenceShift } from './shift.ts';

export interface ValidateOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** Fit a Platt recalibration on this share of the external patients and report it on the rest (binary runs). */
  recalibrate?: number;
}

/** Where image folders validated against are imported: inside the run's project, reused by the next validation. */
export function scratchFolder(project: Project): string {
  return path.join(project.dir, 'exports', 'validation-sets');
}

/** How a model reads a field that is missing for every external image, in words. */
export function imputedAs(models: FinalModels, j: number): string {
  const e = models.encoder.fields[j]!;
  const indicator = e.missingColumn ? ', with its "missing" indicator on, as for training images without it' : '';
  if (e.kind === 'number') return `the training mean (${e.mean.toFixed(2)})${indicator}`;
  return `no ${e.kind === 'boolean' ? 'value' : 'category'} set${indicator}`;
}

/** Probabilities of every mode for images (vectors n × dim) with metadata in the run's field order. */
export function allModes(models: FinalModels, vectors: Float32Array, meta: FieldValue[][]): Record<Mode, Float64Array> {
  return Object.fromEntries(MODES.map((m) => [m, applyModels(models, m, vectors, meta)])) as Record<Mode, Float64Array>;
}

/** The external images scored by every mode, with the figures, subgroups and per-image rows built from them. */
export function scoreExternal(
  models: FinalModels,
  classes: string[],
  x: {
    images: { external_id: string; label: string; grp: string }[];
    labels: Int32Array;
    meta: FieldValue[][];
    vectors: Float32Array;
    extFields: { name: string; type: string }[];
    extMeta: FieldValue[][];
    from: (string | null)[];
    runFields: { name: string }[];
  },
  seed: number,
  recalibrateShare?: number,
) {
  const C = classes.length;
  const probs = allModes(models, x.vectors, x.meta);
  const extSet: ScoredSet = {
    labels: x.labels,
    classes: C,
    probs,
    decided: decideAll(probs, x.labels, C, models.thresholds),
    groups: x.images.map((i) => i.grp),
  };
  const extBoot = bootstrapModes(extSet, seed);
  const subgroups = subgroupTable({
    fields: x.extFields,
    rows: x.extMeta,
    labels: x.labels,
    classes: C,
    probs,
    decided: extSet.decided,
    groups: extSet.groups,
    fieldsUsed: x.from.filter((f): f is string => f !== null),
    seed,
  });
  const rows: ValidationReport['rows'] = x.images.map((img, q) => ({
    externalId: img.external_id,
    label: img.label,
    truth: classes[x.labels[q]!]!,
    probs: Object.fromEntries(MODES.map((m) => [m, Array.from(probs[m].subarray(q * C, (q + 1) * C), (p) => Math.round(p * 1e6) / 1e6)])) as Record<
      Mode,
      number[]
    >,
    missingFields: x.runFields.filter((_, j) => x.meta[q]![j] === null).map((f) => f.name),
  }));
  return {
    probs,
    extSet,
    extBoot,
    modes: externalModes(extSet, extBoot, models.thresholds),
    subgroups,
    rows,
    recalibration: recalibrateShare === undefined ? null : recalibrate(extSet, recalibrateShare, seed),
    labelIssues: externalLabelIssues(extSet, classes, x.images),
  };
}

/** What each absent field costs: the fused AUC on the run's own images with the field set missing, minus as it is. */
function absenceCost(models: FinalModels, vectors: Float32Array, meta: FieldValue[][], labels: Int32Array, C: number, j: number): number {
  const blanked = meta.map((r) => r.map((v, k) => (k === j ? null : v)));
  const a = (rows: FieldValue[][]) => auc({ probs: applyModels(models, 'fused', vectors, rows), classes: C, labels });
  return a(blanked) - a(meta);
}

/**
 * Validates a finished run on another labelled set (another project, or a folder and CSV): the three models' figures
 * with patient-bootstrap intervals beside the run's cross-validated ones and the difference, what shifted (fields,
 * images, prevalence), subgroups, per-image predictions. Stored in the run's project; returns its id and the report.
 */
export async function validateRun(project: Project, req: ValidateRequest, opts: ValidateOptions = {}): Promise<{ id: number; report: ValidationReport }> {
  const d = loadRunData(project, req.runId);
  const models = runModels(project, req.runId);
  const snap = repoOf(project.db, LabelsRepo);
  const fieldsRepo = repoOf(project.db, FieldsRepo);
  const runFields = d.result.fieldsUsed.map((name) => ({ name, type: fieldsRepo.get(name)?.type ?? 'text' }));
  const { snap: snapshot } = parseRun(d.row);
  const run: RunSide = {
    classes: d.classes,
    positive: d.cfg.positive,
    labelClasses: snap.classNamesOf(d.labelSetId),
    fields: runFields,
    encoder: models.encoder,
  };
  const C = d.classes.length;
  const seed = d.cfg.seed;
  const opened = await openExternal(req.source, scratchFolder(project), opts);
  const { project: other, description } = opened;
  try {
    const ext = readExternal(other, description, snapshot.labelSet, req.source.kind === 'project' ? req.source.labelSet : undefined);
    const mapped = mapExternal(run, { labels: ext.images.map((i) => i.label), fields: ext.fields, meta: ext.meta }, req);
    opts.signal?.throwIfAborted();
    // Training photos among the external ones (the same content hash) would be scored from the model's memory.
    const featureStore = repoOf(project.db, FeatureStore);
    const shas = new Map(featureStore.imageVectors(snapshot.backboneKey.split('+')[0]!).map((v) => [v.imageId, v.sha256]));
    const trainShas = new Set(d.imageIds.flatMap((id) => (shas.has(id) ? [shas.get(id)!] : [])));
    const mappedImages = mapped.keep.map((i) => ext.images[i]!);
    const seen = trainingPhotos(mappedImages, trainShas);
    const excluded = req.includeTrainingPhotos ? new Set<number>() : new Set(seen);
    const use = mappedImages.map((_, r) => r).filter((r) => !excluded.has(r));
    if (use.length === 0)
      throw new DermFuseError(
        'INVALID_VALUE',
        `${description}: every external image is a training photo of run ${req.runId}; validate on photos it did not see.`,
      );
    const kept = use.map((r) => mappedImages[r]!);
    const feats = await externalFeatures(project, snapshot.backboneKey, other, kept, { ...opts, cache: opened.copy });
    opts.signal?.throwIfAborted();
    opts.onProgress?.({ phase: 'validate', done: 0, total: 3, message: 'scoring the external images' });
    const ok = kept.map((_, r) => r).filter((r) => feats.errors[r] === null);
    const warnings = [
      ...(seen.length > 0
        ? [
            trainingPhotosWarning(
              seen.map((r) => mappedImages[r]!.external_id),
              mappedImages.length,
              !req.includeTrainingPhotos,
            ),
          ]
        : []),
      ...importProblemsWarning(opened.problems),
      ...kept.flatMap((img, r) => (feats.errors[r] === null ? [] : [`${img.external_id}: ${feats.errors[r]}; left out`])),
    ];
    if (ok.length === 0) throw new DermFuseError('INVALID_VALUE', `${description}: no external image could be embedded.`);
    const pick = <T>(xs: ArrayLike<T>) => ok.map((r) => xs[use[r]!]!);
    const vectors = new Float32Array(ok.length * feats.dim);
    ok.forEach((r, q) => vectors.set(feats.vectors.subarray(r * feats.dim, (r + 1) * feats.dim), q * feats.dim));
    const meta = pick(mapped.meta);
    const labels = Int32Array.from(pick(mapped.truth));
    const images = pick(mappedImages);
    const grouping = externalGrouping(images);
    if (grouping === 'image') warnings.push(IMAGE_LEVEL_WARNING);
    await initBackend();
    const extMeta = pick(mapped.keep.map((i) => ext.meta[i]!));
    const scored = scoreExternal(
      models,
      d.classes,
      { images, labels, meta, vectors, extFields: ext.fields, extMeta, from: mapped.from, runFields },
      seed,
      req.recalibrate ?? opts.recalibrate,
    );
    const { extSet, extBoot, modes } = scored;
    opts.onProgress?.({ phase: 'validate', done: 1, total: 3, message: 'comparing with the run' });

    const intDecided = Object.fromEntries(MODES.map((m) => [m, predictedClasses(d, m)])) as Record<Mode, Int32Array>;
    const intSet: ScoredSet = { labels: d.labels, classes: C, probs: d.probs, decided: intDecided, groups: bootstrapUnits(project, d) };
    const internal = Object.fromEntries(
      MODES.map((m) => {
        const r = d.result.modes[m];
        return [m, { auc: { value: r.auc, ci: r.aucCI }, balancedAccuracy: { value: r.balancedAccuracy, ci: r.balancedAccuracyCI } }];
      }),
    ) as NonNullable<ValidationReport['internal']>;
    const difference = differences(modes, internal, extBoot, bootstrapModes(intSet, seed + 1));

    // The run's own images, features and current metadata: the training side of every shift.
    const trainVectors = imageFeatures(featureStore, snapshot.backboneKey.split('+').join(',')).vectors;
    const trainRows = d.imageIds.map((id, i) => ({ i, v: trainVectors.get(id) })).filter((x) => x.v !== undefined);
    const tv = new Float32Array(trainRows.length * feats.dim);
    trainRows.forEach((x, q) => tv.set(x.v!, q * feats.dim));
    const trainMeta = fieldsRepo.rows(
      trainRows.map((x) => d.imageIds[x.i]!),
      runFields.map((f) => fieldsRepo.get(f.name)),
    );
    // The photo classifier's folds keep a patient's photos together whatever unit the run grouped its folds by.
    const patientOf = new Map(
      repoOf(project.db, RunsRepo)
        .groupUnits(d.runId, 'patient')
        .map((r) => [r.id, r.grp]),
    );
    const trainLabels = Int32Array.from(trainRows, (x) => d.labels[x.i]!);
    const fields = runFields.map((f, j) => ({
      field: f.name,
      from: mapped.from[j] ?? null,
      imputed: mapped.from[j] === null ? imputedAs(models, j) : null,
      costAuc: mapped.from[j] === null ? absenceCost(models, tv, trainMeta, trainLabels, C, j) : null,
    }));
    opts.onProgress?.({ phase: 'validate', done: 2, total: 3, message: 'measuring the shift' });
    const shift: ValidationReport['shift'] = {
      fields: fieldShifts(runFields, mapped.from, trainMeta, meta, seed),
      images: imageShift(
        // A fine-tuned run keeps every feature (identity PCA): the shift is measured on as many components as a frozen run's.
        Math.min(models.pca.k, IMAGE_COMPONENTS),
        {
          vectors: tv,
          groups: trainRows.map((x) => patientOf.get(d.imageIds[x.i]!) ?? `image:${d.imageIds[x.i]}`),
          shas: trainRows.map((x) => shas.get(d.imageIds[x.i]!) ?? `image:${d.imageIds[x.i]}`),
          ids: trainRows.map((x) => d.externalIds[x.i]!),
        },
        { vectors, groups: extSet.groups, shas: images.map((i) => i.sha256), ids: images.map((i) => i.external_id) },
        seed,
      ),
      prevalence: C === 2 ? prevalenceShift({ labels: d.labels, decided: intDecided }, labels) : null,
    };
    const report: ValidationReport = {
      runId: req.runId,
      createdAt: new Date().toISOString(),
      source: { kind: req.source.kind, description },
      task: C === 2 ? 'binary' : 'multiclass',
      classes: d.classes,
      images: ok.length,
      groups: new Set(extSet.groups).size,
      classMap: mapped.classMap,
      fields,
      modes,
      internal,
      difference,
      shift,
      subgroups: scored.subgroups,
      recalibration: scored.recalibration,
      labelIssues: scored.labelIssues,
      trainingPhotos: { count: seen.length, excluded: !req.includeTrainingPhotos, ids: seen.map((r) => mappedImages[r]!.external_id) },
      grouping,
      features: { cached: feats.cached, computed: feats.computed, failed: kept.length - ok.length },
      warnings,
      rows: scored.rows,
    };
    const id = repoOf(project.db, ValidationsRepo).add(req.runId, report.createdAt, description, report.images, JSON.stringify(report));
    opts.onProgress?.({ phase: 'validate', done: 3, total: 3, message: 'stored' });
    return { id, report };
  } finally {
    other.close();
  }
}
