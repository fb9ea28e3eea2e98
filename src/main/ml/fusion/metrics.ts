import { rngFrom } from '../stats/random.ts';

/** Binary ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half. NaN when a class is absent. */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]!]) {
        rankSumPos += rank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Probabilities n × C (row-major) and true class per row. */
export interface Predictions {
  probs: Float64Array;
  classes: number;
  labels: Int32Array;
}

/** ROC AUC: binary (class 1 is positive) or macro one-vs-rest over classes present. */
export function auc(p: Predictions): number {
  const n = p.labels.length;
  const col = (c: number) => Float64Array.from({ length: n }, (_, i) => p.probs[i * p.classes + c]!);
  if (p.classes === 2)
    return rocAuc(
      col(1),
      Array.from(p.labels, (l) => l === 1),
    );
  const per: number[] = [];
  for (let c = 0; c < p.classes; c++) {
    const a = rocAuc(
      col(c),
      Array.from(p.labels, (l) => l === c),
    );
    if (!Number.isNaN(a)) per.push(a);
  }
  return per.reduce((s, x) => s + x, 0) / per.length;
}

/**
 * The AUC of `p` (as auc() computes it) on resamples given as counts per row, with each class's scores sorted once:
 * a resample then costs one pass per class instead of a copy and a sort, which is what makes hundreds of
 * bootstrap resamples of many permuted prediction sets affordable. `counts[i]`: how often row i was drawn.
 */
export function resampledAuc(p: Predictions): (counts: Int32Array) => number {
  const n = p.labels.length;
  const columns = p.classes === 2 ? [1] : Array.from({ length: p.classes }, (_, c) => c);
  // Per class: rows in ascending score order, and where each run of tied scores ends.
  const sorted = columns.map((c) => {
    const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => p.probs[a * p.classes + c]! - p.probs[b * p.classes + c]!);
    const tieEnd = new Int32Array(n);
    for (let i = n - 1; i >= 0; i--) {
      const same = i + 1 < n && p.probs[order[i]! * p.classes + c] === p.probs[order[i + 1]! * p.classes + c];
      tieEnd[i] = same ? tieEnd[i + 1]! : i;
    }
    return { c, order, tieEnd };
  });
  return (counts) => {
    let sum = 0;
    let present = 0;
    for (const { c, order, tieEnd } of sorted) {
      // Mann-Whitney over the drawn multiset: each positive counts the negatives below it, ties as half.
      let negBelow = 0;
      let pairs = 0;
      let pos = 0;
      let neg = 0;
      for (let i = 0; i < n;) {
        const end = tieEnd[i]!;
        let posHere = 0;
        let negHere = 0;
        for (let k = i; k <= end; k++) {
          const row = order[k]!;
          const w = counts[row]!;
          if (p.labels[row] === c) posHere += w;
          else negHere += w;
        }
        pairs += posHere * (negBelow + negHere / 2);
        negBelow += negHere;
        pos += posHere;
        neg += negHere;
        i = end + 1;
      }
      if (pos === 0 || neg === 0) continue;
      sum += pairs / (pos * neg);
      present++;
    }
    return present === 0 ? NaN : sum / present;
  };
}

/** How often each of n rows was drawn in a resample given as row indices. */
export function drawCounts(n: number, sample: Int32Array): Int32Array {
  const counts = new Int32Array(n);
  for (const i of sample) counts[i]!++;
  return counts;
}

/** Predicted class: argmax, or for binary the threshold on the positive probability. */
export function predictClasses(p: Predictions, threshold = 0.5): Int32Array {
  const n = p.labels.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (p.classes === 2) out[i] = p.probs[i * 2 + 1]! >= threshold ? 1 : 0;
    else {
      let best = 0;
      for (let c = 1; c < p.classes; c++) if (p.probs[i * p.classes + c]! > p.probs[i * p.classes + best]!) best = c;
      out[i] = best;
    }
  }
  return out;
}

export function confusionMatrix(labels: Int32Array, predicted: Int32Array, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![predicted[i]!]!++;
  return m;
}

/** Mean of per-class recall over classes present. */
export function balancedAccuracy(cm: number[][]): number {
  const recalls = cm.map((row, c) => (row.reduce((s, x) => s + x, 0) > 0 ? row[c]! / row.reduce((s, x) => s + x, 0) : NaN)).filter((r) => !Number.isNaN(r));
  return recalls.reduce((s, x) => s + x, 0) / recalls.length;
}

/** Multi-class Brier score: mean over rows of the squared distance between probabilities and the one-hot truth. */
export function brier(p: Predictions): number {
  let s = 0;
  for (let i = 0; i < p.labels.length; i++) for (let c = 0; c < p.classes; c++) s += (p.probs[i * p.classes + c]! - (p.labels[i] === c ? 1 : 0)) ** 2;
  return s / p.labels.length;
}

/** Expected calibration error of the top-class confidence, over equal-width bins. */
export function calibrationError(p: Predictions, bins = 10): { ece: number; curve: { confidence: number; accuracy: number; count: number }[] } {
  const pred = predictClasses(p);
  const acc = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const cnt = new Array<number>(bins).fill(0);
  for (let i = 0; i < p.labels.length; i++) {
    const c = p.probs[i * p.classes + pred[i]!]!;
    const b = Math.min(bins - 1, Math.floor(c * bins));
    cnt[b]!++;
    conf[b]! += c;
    acc[b]! += pred[i] === p.labels[i] ? 1 : 0;
  }
  let ece = 0;
  const curve: { confidence: number; accuracy: number; count: number }[] = [];
  for (let b = 0; b < bins; b++) {
    if (cnt[b] === 0) continue;
    ece += (cnt[b]! / p.labels.length) * Math.abs(acc[b]! / cnt[b]! - conf[b]! / cnt[b]!);
    curve.push({ confidence: conf[b]! / cnt[b]!, accuracy: acc[b]! / cnt[b]!, count: cnt[b]! });
  }
  return { ece, curve };
}

/** Binary: the sensitivity reached at (at least) each specificity. */
export function sensitivityAtSpecificity(scores: ArrayLike<number>, positive: ArrayLike<boolean>, specificities: number[]): Record<string, number> {
  const neg = Array.from(scores)
    .filter((_, i) => !positive[i])
    .sort((a, b) => a - b);
  const pos = Array.from(scores).filter((_, i) => positive[i]);
  const out: Record<string, number> = {};
  for (const spec of specificities) {
    // Smallest threshold whose specificity (share of negatives strictly below it) reaches spec.
    const k = Math.min(neg.length - 1, Math.ceil(spec * neg.length) - 1);
    const threshold = neg.length > 0 ? neg[Math.max(k, 0)]! : -Infinity;
    out[String(spec)] = pos.length > 0 ? pos.filter((s) => s > threshold).length / pos.length : NaN;
  }
  return out;
}

/** Threshold on the positive probability that maximises Youden's J (sensitivity + specificity - 1). */
export function youdenThreshold(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const nPos = Array.from(positive).filter(Boolean).length;
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return 0.5;
  let tp = 0;
  let fp = 0;
  let best = -1;
  let threshold = 0.5;
  for (let k = 0; k < idx.length; k++) {
    if (positive[idx[k]!]) tp++;
    else fp++;
    if (k + 1 < idx.length && scores[idx[k + 1]!] === scores[idx[k]!]) continue;
    const j = tp / nPos - fp / nNeg;
    if (j > best) {
      best = j;
      const next = k + 1 < idx.length ? scores[idx[k + 1]!]! : scores[idx[k]!]! - 1e-6;
      threshold = (scores[idx[k]!]! + next) / 2;
    }
  }
  return threshold;
}

/** Bootstrap resamples that draw whole groups (patients), so the interval reflects patients, not photos. */
export function groupBootstrapSamples(groups: readonly string[], resamples: number, seed: number): Int32Array[] {
  const byGroup = new Map<string, number[]>();
  groups.forEach((g, i) => byGroup.set(g, [...(byGroup.get(g) ?? []), i]));
  const lists = [...byGroup.values()];
  const rand = rngFrom(seed);
  const out: Int32Array[] = [];
  for (let r = 0; r < resamples; r++) {
    const idx: number[] = [];
    for (let k = 0; k < lists.length; k++) idx.push(...lists[Math.floor(rand() * lists.length)]!);
    out.push(Int32Array.from(idx));
  }
  return out;
}

export function subset(p: Predictions, idx: Int32Array): Predictions {
  const probs = new Float64Array(idx.length * p.classes);
  const labels = new Int32Array(idx.length);
  idx.forEach((i, k) => {
    labels[k] = p.labels[i]!;
    for (let c = 0; c < p.classes; c++) probs[k * p.classes + c] = p.probs[i * p.classes + c]!;
  });
  return { probs, classes: p.classes, labels };
}

/**
 * The central 1 - alpha interval of a metric over the resamples (2.5th and 97.5th percentiles by default; NaNs,
 * from a resample missing a class, dropped).
 */
export function percentileInterval(values: number[], alpha = 0.05): [number, number] {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))]!;
  return [at(alpha / 2), at(1 - alpha / 2)];
}
