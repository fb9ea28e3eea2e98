import { DermFuseError } from '../../shared/errors.ts';
import { MODES, type Curve, type Mode, type ModeReport, type RunReportView } from '../../shared/results.ts';
import { confusionMatrix } from '../ml/fusion/metrics.ts';
import type { RunResult } from '../ml/fusion/train.ts';
import type { Project } from '../project.ts';
import { loadRunData, predictedClasses, type RunData } from '../ml/fusion/runData.ts';
import { runListItem } from '../ml/fusion/runs.ts';
import { runSubgroups } from '../ml/fusion/subgroups.ts';

/** Curves are thinned to about this many points: enough to read, small enough to send. */
const CURVE_POINTS = 200;

/** Evenly thinned points of a curve, always keeping both ends. */
function thin(points: [number, number][]): Curve {
  const step = Math.max(1, Math.floor(points.length / CURVE_POINTS));
  const kept = points.filter((_, i) => i % step === 0 || i === points.length - 1);
  return { x: kept.map((p) => round(p[0])), y: kept.map((p) => round(p[1])) };
}
const round = (x: number) => Math.round(x * 1e4) / 1e4;

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

function modeReport(d: RunData, mode: Mode, curveClass: number): ModeReport {
  const C = d.classes.length;
  const ev = d.result.evaluation.modes[mode];
  const cm = confusionMatrix(d.labels, predictedClasses(d, mode), C);
  const scores = Array.from(d.labels, (_, i) => d.probs[mode][i * C + curveClass]!);
  const { roc, pr } = rocPr(
    scores,
    Array.from(d.labels, (l) => l === curveClass),
  );
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
  const cmp = (name: string, c: RunResult['fusedVsImage']) => ({ name, difference: c.difference, ci: c.ci, p: c.p });
  return {
    run: runListItem(project, d.row),
    classes: d.classes,
    curveClass: d.classes[k]!,
    modes: Object.fromEntries(MODES.map((m) => [m, modeReport(d, m, k)])) as Record<Mode, ModeReport>,
    comparisons: [cmp('fused − image', d.result.fusedVsImage), cmp('fused − metadata', d.result.fusedVsMetadata)],
    subgroups,
    leakage: d.result.leakage.map((l) => ({ field: l.field, message: l.message })),
    fieldsExcluded: d.result.fieldsExcluded,
    duplicates: d.result.duplicates ?? null,
    consensus: d.result.consensus ?? null,
    importance: d.result.importance ?? null,
  };
}
