import { MODES, type Interval, type Mode } from '../../shared/results.ts';
import type { ExternalLabelIssue, ExternalModeReport, ValidationReport } from '../../shared/validation.ts';
import { BOOTSTRAP_RESAMPLES } from '../ml/fusion/evaluate.ts';
import { drawCounts, groupBootstrapSamples, percentileInterval, predictClasses, resampledAuc, type Predictions } from '../ml/fusion/metrics.ts';
import { confusionMatrix, balancedAccuracy, auc, calibrationError, brier } from '../ml/fusion/metrics.ts';
import { confidentLearning } from '../results/cases.ts';
import { rocPr } from '../results/report.ts';

/** One set's predictions of the three modes, the classes decided from them, and each image's patient. */
export interface ScoredSet {
  labels: Int32Array;
  classes: number;
  probs: Record<Mode, Float64Array>;
  decided: Record<Mode, Int32Array>;
  groups: string[];
}

/** AUC and balanced accuracy of each mode on patient resamples (whole patients drawn with replacement). */
export function bootstrapModes(s: ScoredSet, seed: number, resamples = BOOTSTRAP_RESAMPLES): Record<Mode, { auc: number[]; bacc: number[] }> {
  const samples = groupBootstrapSamples(s.groups, resamples, seed);
  const n = s.labels.length;
  return Object.fromEntries(
    MODES.map((m) => {
      const aucOf = resampledAuc({ probs: s.probs[m], classes: s.classes, labels: s.labels });
      const out = { auc: [] as number[], bacc: [] as number[] };
      for (const sample of samples) {
        out.auc.push(aucOf(drawCounts(n, sample)));
        out.bacc.push(
          balancedAccuracy(
            confusionMatrix(
              Int32Array.from(sample, (i) => s.labels[i]!),
              Int32Array.from(sample, (i) => s.decided[m][i]!),
              s.classes,
            ),
          ),
        );
      }
      return [m, out];
    }),
  ) as Record<Mode, { auc: number[]; bacc: number[] }>;
}

/** Sensitivity, specificity, PPV and NPV of binary decisions. */
export function binaryRates(labels: Int32Array, decided: Int32Array): { sensitivity: number; specificity: number; ppv: number; npv: number } {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  labels.forEach((l, i) => {
    if (l === 1 && decided[i] === 1) tp++;
    else if (l === 1) fn++;
    else if (decided[i] === 1) fp++;
    else tn++;
  });
  return { sensitivity: tp / (tp + fn), specificity: tn / (tn + fp), ppv: tp / (tp + fp), npv: tn / (tn + fn) };
}

/** Each mode's decisions at the run's final decision rule (binary: its threshold; multiclass: the most probable class). */
export function decideAll(
  probs: Record<Mode, Float64Array>,
  labels: Int32Array,
  classes: number,
  thresholds: Record<string, number>,
): Record<Mode, Int32Array> {
  return Object.fromEntries(MODES.map((m) => [m, predictClasses({ probs: probs[m], classes, labels }, thresholds[m] ?? 0.5)])) as Record<Mode, Int32Array>;
}

/** The report of each mode on the external set: AUC and balanced accuracy with patient-bootstrap intervals, ROC, calibration, confusion. */
export function externalModes(
  s: ScoredSet,
  boot: Record<Mode, { auc: number[]; bacc: number[] }>,
  thresholds: Record<string, number>,
): Record<Mode, ExternalModeReport> {
  const C = s.classes;
  return Object.fromEntries(
    MODES.map((m): [Mode, ExternalModeReport] => {
      const p: Predictions = { probs: s.probs[m], classes: C, labels: s.labels };
      const cm = confusionMatrix(s.labels, s.decided[m], C);
      const cal = calibrationError(p);
      const curveClass = C === 2 ? 1 : 0;
      const { roc } = rocPr(
        Array.from(s.labels, (_, i) => s.probs[m][i * C + curveClass]!),
        Array.from(s.labels, (l) => l === curveClass),
      );
      return [
        m,
        {
          auc: { value: auc(p), ci: percentileInterval(boot[m].auc) },
          balancedAccuracy: { value: balancedAccuracy(cm), ci: percentileInterval(boot[m].bacc) },
          brier: brier(p),
          calibrationError: cal.ece,
          calibration: cal.curve,
          confusion: cm,
          roc,
          operating: C === 2 ? { threshold: thresholds[m] ?? 0.5, ...binaryRates(s.labels, s.decided[m]) } : null,
        },
      ];
    }),
  ) as Record<Mode, ExternalModeReport>;
}

/**
 * External minus internal per mode, with the interval of the difference: the two sets are independent samples of
 * patients, so each resample pairs an external resample with an internal one.
 */
export function differences(
  external: Record<Mode, ExternalModeReport>,
  internal: Record<Mode, { auc: Interval; balancedAccuracy: Interval }>,
  extBoot: Record<Mode, { auc: number[]; bacc: number[] }>,
  intBoot: Record<Mode, { auc: number[]; bacc: number[] }>,
): NonNullable<ValidationReport['difference']> {
  const diff = (a: number[], b: number[]) => a.map((x, i) => x - b[i]!).filter((x) => !Number.isNaN(x));
  return Object.fromEntries(
    MODES.map((m) => [
      m,
      {
        auc: { value: external[m].auc.value - internal[m].auc.value, ci: percentileInterval(diff(extBoot[m].auc, intBoot[m].auc)) },
        balancedAccuracy: {
          value: external[m].balancedAccuracy.value - internal[m].balancedAccuracy.value,
          ci: percentileInterval(diff(extBoot[m].bacc, intBoot[m].bacc)),
        },
      },
    ]),
  ) as NonNullable<ValidationReport['difference']>;
}

/** Likely label errors listed in a report at most: the list is for reading, most suspect first. */
export const MAX_LABEL_ISSUES = 50;

/**
 * Likely label errors of the external set: confident learning on the fused model's probabilities, as for a run's own
 * images (results/cases.ts), with each mode's probability of the given class.
 */
export function externalLabelIssues(s: ScoredSet, classes: string[], images: { external_id: string; label: string }[]): ExternalLabelIssue[] {
  const C = classes.length;
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return confidentLearning({ classes, labels: s.labels }, s.probs.fused)
    .slice(0, MAX_LABEL_ISSUES)
    .map((x) => ({
      externalId: images[x.index]!.external_id,
      label: images[x.index]!.label,
      truth: classes[s.labels[x.index]!]!,
      suggested: classes[x.suggested]!,
      margin: round(x.margin),
      pLabel: Object.fromEntries(MODES.map((m) => [m, round(s.probs[m][x.index * C + s.labels[x.index]!]!)])) as Record<Mode, number>,
    }));
}
