import type { Band } from '../../shared/results.ts';
import { percentileInterval } from '../ml/fusion/metrics.ts';

/** Where the band is read: every 5% of the x axis (false-positive rate, or recall). */
const GRID = Array.from({ length: 21 }, (_, i) => i / 20);

/**
 * The 95% bootstrap bands of a ROC and a precision-recall curve: per resample (each image counted as often as its
 * patient was drawn), the true-positive rate at each false-positive rate of the grid and the best precision at
 * each recall or more; the band is their 2.5th to 97.5th percentile at each grid point.
 */
export function curveBands(scores: ArrayLike<number>, positive: ArrayLike<boolean>, weights: Int32Array[]): { roc: Band; pr: Band } {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const roc: number[][] = GRID.map(() => []);
  const pr: number[][] = GRID.map(() => []);
  for (const w of weights) {
    let P = 0;
    let N = 0;
    for (let i = 0; i < w.length; i++) {
      if (positive[i]) P += w[i]!;
      else N += w[i]!;
    }
    if (P === 0 || N === 0) continue;
    const tprAt = new Float64Array(GRID.length);
    const precAt = new Float64Array(GRID.length);
    let tp = 0;
    let fp = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (positive[i]) tp += w[i]!;
      else fp += w[i]!;
      if (k + 1 < order.length && scores[order[k + 1]!] === scores[i]) continue;
      const fpr = fp / N;
      const tpr = tp / P;
      const prec = tp + fp > 0 ? tp / (tp + fp) : 1;
      // The ROC step function: the highest TPR reached at or below each grid FPR; precision interpolated as
      // the best precision at this recall or beyond.
      GRID.forEach((g, j) => {
        if (fpr <= g + 1e-12 && tpr > tprAt[j]!) tprAt[j] = tpr;
        if (tpr >= g - 1e-12 && prec > precAt[j]!) precAt[j] = prec;
      });
    }
    GRID.forEach((_, j) => {
      roc[j]!.push(tprAt[j]!);
      pr[j]!.push(precAt[j]!);
    });
  }
  const band = (values: number[][]): Band => {
    const ci = values.map((v) => (v.length ? percentileInterval(v) : ([Number.NaN, Number.NaN] as [number, number])));
    return { x: [...GRID], lo: ci.map((c) => round(c[0])), hi: ci.map((c) => round(c[1])) };
  };
  return { roc: band(roc), pr: band(pr) };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** The run's own yes/no calls for one class against the rest, as a point on the ROC and PR curves. */
export function operatingPoint(confusion: number[][], k: number): { fpr: number; tpr: number; precision: number } {
  let tp = 0;
  let fn = 0;
  let fp = 0;
  let tn = 0;
  confusion.forEach((row, t) =>
    row.forEach((n, p) => {
      if (t === k && p === k) tp += n;
      else if (t === k) fn += n;
      else if (p === k) fp += n;
      else tn += n;
    }),
  );
  return { tpr: tp + fn ? tp / (tp + fn) : 0, fpr: fp + tn ? fp / (fp + tn) : 0, precision: tp + fp ? tp / (tp + fp) : 1 };
}
