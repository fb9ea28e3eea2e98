import type { Comparison } from '../../../shared/results.ts';
import type { CrossValResult, Mode } from './crossval.ts';
import { MODES } from './crossval.ts';
import {
  auc,
  balancedAccuracy,
  brier,
  calibrationError,
  confusionMatrix,
  groupBootstrapSamples,
  percentileInterval,
  sensitivityAtSpecificity,
  subset,
  type Predictions,
} from './metrics.ts';

/** Resamples of patients for confidence intervals: enough for stable 2.5/97.5 percentiles. */
export const BOOTSTRAP_RESAMPLES = 1000;
const SPECIFICITIES = [0.8, 0.9, 0.95];

export interface ModeMetrics {
  auc: number;
  aucCI: [number, number];
  balancedAccuracy: number;
  balancedAccuracyCI: [number, number];
  perClass: { class: string; recall: number; precision: number; support: number }[];
  sensitivityAtSpecificity: Record<string, number> | null;
  confusion: number[][];
  brier: number;
  calibrationError: number;
  calibration: { confidence: number; accuracy: number; count: number }[];
}

export type { Comparison } from '../../../shared/results.ts';

export interface Evaluation {
  modes: Record<Mode, ModeMetrics>;
  fusedVsImage: Comparison;
  fusedVsMetadata: Comparison;
}

/** Predicted classes of out-of-fold probabilities, each row with the threshold of the fold it was tested in. */
function decide(p: Predictions, fold: Int32Array, thresholds: number[]): Int32Array {
  const out = new Int32Array(p.labels.length);
  for (let i = 0; i < out.length; i++) {
    if (p.classes === 2) out[i] = p.probs[i * 2 + 1]! >= thresholds[fold[i]!]! ? 1 : 0;
    else {
      let best = 0;
      for (let c = 1; c < p.classes; c++) if (p.probs[i * p.classes + c]! > p.probs[i * p.classes + best]!) best = c;
      out[i] = best;
    }
  }
  return out;
}

/** All metrics of the run from its out-of-fold predictions, with intervals from resampling patients. */
export function evaluate(cv: CrossValResult, labels: Int32Array, classes: string[], groups: string[], seed: number): Evaluation {
  const C = classes.length;
  const preds = Object.fromEntries(MODES.map((m) => [m, { probs: cv.oof[m], classes: C, labels }])) as Record<Mode, Predictions>;
  const samples = groupBootstrapSamples(groups, BOOTSTRAP_RESAMPLES, seed);
  const boot: Record<Mode, { auc: number[]; bacc: number[] }> = { image: { auc: [], bacc: [] }, metadata: { auc: [], bacc: [] }, fused: { auc: [], bacc: [] } };
  const decided = Object.fromEntries(
    MODES.map((m) => [
      m,
      decide(
        preds[m],
        cv.fold,
        cv.thresholds.map((t) => t[m]),
      ),
    ]),
  ) as Record<Mode, Int32Array>;
  for (const s of samples) {
    for (const m of MODES) {
      const sub = subset(preds[m], s);
      boot[m].auc.push(auc(sub));
      const dec = Int32Array.from(s, (i) => decided[m][i]!);
      boot[m].bacc.push(balancedAccuracy(confusionMatrix(sub.labels, dec, C)));
    }
  }
  const modes = {} as Record<Mode, ModeMetrics>;
  for (const m of MODES) {
    const cm = confusionMatrix(labels, decided[m], C);
    const cal = calibrationError(preds[m]);
    modes[m] = {
      auc: auc(preds[m]),
      aucCI: percentileInterval(boot[m].auc),
      balancedAccuracy: balancedAccuracy(cm),
      balancedAccuracyCI: percentileInterval(boot[m].bacc),
      perClass: classes.map((name, c) => {
        const support = cm[c]!.reduce((s, x) => s + x, 0);
        const predicted = cm.reduce((s, row) => s + row[c]!, 0);
        return { class: name, recall: support ? cm[c]![c]! / support : NaN, precision: predicted ? cm[c]![c]! / predicted : NaN, support };
      }),
      sensitivityAtSpecificity:
        C === 2
          ? sensitivityAtSpecificity(
              Array.from({ length: labels.length }, (_, i) => cv.oof[m][i * 2 + 1]!),
              Array.from(labels, (l) => l === 1),
              SPECIFICITIES,
            )
          : null,
      confusion: cm,
      brier: brier(preds[m]),
      calibrationError: cal.ece,
      calibration: cal.curve,
    };
  }
  const compare = (a: Mode, b: Mode): Comparison => {
    const diffs = boot[a].auc.map((x, i) => x - boot[b].auc[i]!).filter((x) => !Number.isNaN(x));
    const below = diffs.filter((x) => x <= 0).length / diffs.length;
    const above = diffs.filter((x) => x >= 0).length / diffs.length;
    return { difference: modes[a].auc - modes[b].auc, ci: percentileInterval(diffs), p: Math.min(1, 2 * Math.min(below, above)) };
  };
  return { modes, fusedVsImage: compare('fused', 'image'), fusedVsMetadata: compare('fused', 'metadata') };
}
