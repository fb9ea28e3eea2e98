import { DermFuseError } from '../../shared/errors.ts';
import { MODES, type Band, type Curve, type Mode, type ModeReport, type RunReportView } from '../../shared/results.ts';
import { confusionMatrix, groupBootstrapSamples } from '../ml/fusion/metrics.ts';
import type { RunResult } from '../ml/fusion/train.ts';
import type { Project } from '../project.ts';
import { bootstrapUnits, loadRunData, predictedClasses, type RunData } from '../ml/fusion/runData.ts';
import { runListItem } from '../ml/fusion/runs.ts';
import { runSubgroups } from '../ml/fusion/subgroups.ts';
import { curveBands, operatingPoint } from './curveBands.ts';

/** Curves are thinned to about this many points: enough to read, small enough to send. */
const CURVE_POINTS = 200;

/** Evenly thinned points of a curve, always keeping both ends. */
function thin(points: [number, number][]): Curve {
  const step = Math.max(1, Math.floor(points.length / CURVE_POINTS));
  const kept = points.filter((_, i) => i % step === 0 || i === points.length - 1);
  return { x: kept.map((p) => round(p[0])), y: kept.map((p) => round(p[1])) };
}
const round = (x: number) => Math.round(x * 1e4) / 1e4;
/** Resamples behind the curves' bands: a band is read by eye, so fewer than the 1000 of the intervals do. */
const BAND_RESAMPLES = 200;

/** ROC (false vs true positive rate) and precision-recall curves of one score against one class. */
export function rocPr(scores: ArrayLike<number>, positive: ArrayLike<boolean>): { roc: Curve; pr: Curve } {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const P = Array.from(positive).filter(Boolean).length;
  const N = scores.length - P;
  const roc: [number, number][] = [[0, 0]];
  const pr: [number, number][] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < idx.length; k++) {
    if (positive[idx[k]!]) tp++;
    else fp++;
    // Tied scores are one threshold: emit a point only after the last of them.
    if (k + 1 < idx.length && scores[idx[k + 1]!] === scores[idx[k]!]) continue;
    roc.push([N ? fp / N : 0, P ? tp / P : 0]);
    pr.push([P ? tp / P : 0, tp / (tp + fp)]);
  }
  return { roc: thin(roc), pr: thin(pr) };
}

/**
 * Bands of recently shown runs, per run, class and mode: a finished run's predictions never change, and its bands
 * cost seconds for tens of thousands of images, which the report would otherwise redo on each opening (in serve,
 * holding up everyone's calls meanwhile). Keyed by the project file, the run and when it finished.
 */
const BAND_CACHE = new Map<string, { roc: Band; pr: Band }>();
const BAND_CACHE_MAX = 24;

function cachedBands(key: string, make: () => { roc: Band; pr: Band }): { roc: Band; pr: Band } {
  let hit = BAND_CACHE.get(key);
  if (hit) BAND_CACHE.delete(key);
  else hit = make();
  BAND_CACHE.set(key, hit);
  while (BAND_CACHE.size > BAND_CACHE_MAX) BAND_CACHE.delete(BAND_CACHE.keys().next().value!);
  return hit;
}

function modeReport(d: RunData, mode: Mode, curveClass: number, weights: () => Int32Array[], cacheKey: string): ModeReport {
  const C = d.classes.length;
  const ev = d.result.evaluation.modes[mode];
  const cm = confusionMatrix(d.labels, predictedClasses(d, mode), C);
  const scores = Array.from(d.labels, (_, i) => d.probs[mode][i * C + curveClass]!);
  const positive = Array.from(d.labels, (l) => l === curveClass);
  const { roc, pr } = rocPr(scores, positive);
  const bands = cachedBands(`${cacheKey}|${curveClass}|${mode}`, () => curveBands(scores, positive, weights()));
  const sum = d.result.modes[mode];
  return {
    auc: { value: sum.auc, ci: sum.aucCI },
    balancedAccuracy: { value: sum.balancedAccuracy, ci: sum.balancedAccuracyCI },
    brier: ev.brier,
    calibrationError: ev.calibrationError,
    calibration: ev.calibration,
    confusion: cm,
    roc,
    pr,
    rocBand: bands.roc,
    prBand: bands.pr,
    operating: operatingPoint(cm, curveClass),
    perClass: ev.perClass,
  };
}

/** Everything the report screen shows for one run. `curveClass`: which class the curves are for (multiclass). */
export function runReportView(project: Project, runId: number, curveClass?: string): RunReportView {
  const d = loadRunData(project, runId);
  const C = d.classes.length;
  const k = curveClass === undefined ? (C === 2 ? 1 : 0) : d.classes.indexOf(curveClass);
  if (k < 0) throw new DermFuseError('NOT_FOUND', `Run ${runId} has no class "${curveClass}". Classes: ${d.classes.join(', ')}.`);
  const subgroups = runSubgroups(project, d);
  const n = d.labels.length;
  let weights: Int32Array[] | null = null;
  const resampled = () =>
    (weights ??= groupBootstrapSamples(bootstrapUnits(project, d), BAND_RESAMPLES, d.cfg.seed).map((sample) => {
      const w = new Int32Array(n);
      for (const i of sample) w[i]!++;
      return w;
    }));
  const cacheKey = `${project.dir}|${runId}|${d.row.finished_at ?? d.row.created_at}`;
  const cmp = (name: string, c: RunResult['fusedVsImage']) => ({ name, difference: c.difference, ci: c.ci, p: c.p });
  return {
    run: runListItem(project, d.row),
    classes: d.classes,
    curveClass: d.classes[k]!,
    modes: Object.fromEntries(MODES.map((m) => [m, modeReport(d, m, k, resampled, cacheKey)])) as Record<Mode, ModeReport>,
    comparisons: [cmp('fused − image', d.result.fusedVsImage), cmp('fused − metadata', d.result.fusedVsMetadata)],
    subgroups,
    leakage: d.result.leakage.map((l) => ({ field: l.field, kind: l.kind, strength: l.strength, message: l.message })),
    fieldsExcluded: d.result.fieldsExcluded,
    duplicates: d.result.duplicates ?? null,
    consensus: d.result.consensus ?? null,
    importance: d.result.importance ?? null,
  };
}
