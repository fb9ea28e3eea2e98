/**
 * Inter-rater agreement on nominal labels: percent agreement, Cohen's kappa (two raters), Fleiss' kappa and
 * Krippendorff's alpha (any number of raters, missing ratings allowed), and Dawid-Skene consensus with each rater's
 * estimated confusion matrix. Ratings are `{ item, rater, label }` with labels as class indices 0..K-1.
 */

export interface Rating {
  item: number;
  rater: number;
  label: number;
}

/** Share of the items both raters labelled on which they agree, and Cohen's kappa over those items. */
export function cohenKappa(a: readonly number[], b: readonly number[], classes: number): { agreement: number; kappa: number; n: number } {
  const n = a.length;
  if (n === 0) return { agreement: NaN, kappa: NaN, n };
  const pa = new Float64Array(classes);
  const pb = new Float64Array(classes);
  let same = 0;
  for (let i = 0; i < n; i++) {
    pa[a[i]!]! += 1 / n;
    pb[b[i]!]! += 1 / n;
    if (a[i] === b[i]) same++;
  }
  const po = same / n;
  let pe = 0;
  for (let c = 0; c < classes; c++) pe += pa[c]! * pb[c]!;
  // Both raters always giving the one same class: agreement is perfect and chance explains all of it.
  return { agreement: po, kappa: pe === 1 ? (po === 1 ? 1 : 0) : (po - pe) / (1 - pe), n };
}

/** Items x classes: how many raters put each item in each class. */
export function countTable(ratings: readonly Rating[], classes: number): Map<number, Float64Array> {
  const table = new Map<number, Float64Array>();
  for (const r of ratings) {
    let row = table.get(r.item);
    if (!row) table.set(r.item, (row = new Float64Array(classes)));
    row[r.label]!++;
  }
  return table;
}

/**
 * Fleiss' kappa over items with at least two ratings. With the same number of ratings per item this is Fleiss
 * (1971) exactly; with varying numbers each item's agreement is over its own pairs (the usual generalisation).
 */
export function fleissKappa(ratings: readonly Rating[], classes: number): number {
  const rows = [...countTable(ratings, classes).values()].filter((r) => r.reduce((s, x) => s + x, 0) >= 2);
  if (rows.length === 0) return NaN;
  const p = new Float64Array(classes);
  let total = 0;
  let agreement = 0;
  for (const r of rows) {
    const m = r.reduce((s, x) => s + x, 0);
    let pairs = 0;
    for (let c = 0; c < classes; c++) {
      pairs += r[c]! * (r[c]! - 1);
      p[c]! += r[c]!;
    }
    agreement += pairs / (m * (m - 1));
    total += m;
  }
  const pBar = agreement / rows.length;
  let pe = 0;
  for (let c = 0; c < classes; c++) pe += (p[c]! / total) ** 2;
  return pe === 1 ? 1 : (pBar - pe) / (1 - pe);
}

/**
 * Krippendorff's alpha for nominal data (missing ratings allowed): 1 - observed / expected disagreement over the
 * coincidence matrix of the items with two ratings or more (Krippendorff 2011, "Computing Krippendorff's alpha").
 */
export function krippendorffAlpha(ratings: readonly Rating[], classes: number): number {
  const o = new Float64Array(classes * classes);
  for (const r of countTable(ratings, classes).values()) {
    const m = r.reduce((s, x) => s + x, 0);
    if (m < 2) continue;
    for (let c = 0; c < classes; c++) {
      for (let k = 0; k < classes; k++) o[c * classes + k]! += (r[c]! * (r[k]! - (c === k ? 1 : 0))) / (m - 1);
    }
  }
  const nc = new Float64Array(classes);
  let n = 0;
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < classes; k++) nc[c]! += o[c * classes + k]!;
    n += nc[c]!;
  }
  if (n <= 1) return NaN;
  let observed = 0;
  let expected = 0;
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < classes; k++) {
      if (c === k) continue;
      observed += o[c * classes + k]!;
      expected += (nc[c]! * nc[k]!) / (n - 1);
    }
  }
  return expected === 0 ? 1 : 1 - observed / expected;
}

export interface DawidSkene {
  /** Items in the order of `items`; posterior class probabilities, items x classes. */
  items: number[];
  posterior: Float64Array;
  /** Per rater (in the order of `raters`): classes x classes, row = true class, column = given label. */
  raters: number[];
  confusion: Float64Array[];
  /** Per rater: estimated probability of giving the true class (confusion diagonal weighted by the class prior). */
  accuracy: number[];
  prior: Float64Array;
  iterations: number;
}

/** Pseudo-count added to every confusion cell: keeps an unseen confusion from becoming an impossible one. */
const SMOOTHING = 0.01;

/**
 * Dawid & Skene (1979): EM over each rater's confusion matrix and the class priors, started from majority vote.
 * Returns the posterior of each item's true class, and each rater's confusion and accuracy.
 */
export function dawidSkene(ratings: readonly Rating[], classes: number, maxIterations = 100, tolerance = 1e-6): DawidSkene {
  const items = [...new Set(ratings.map((r) => r.item))].sort((a, b) => a - b);
  const raters = [...new Set(ratings.map((r) => r.rater))].sort((a, b) => a - b);
  const itemIx = new Map(items.map((x, i) => [x, i]));
  const raterIx = new Map(raters.map((x, i) => [x, i]));
  const K = classes;
  const T = new Float64Array(items.length * K);
  // Start: the share of each item's ratings per class (soft majority vote).
  for (const r of ratings) T[itemIx.get(r.item)! * K + r.label]! += 1;
  for (let i = 0; i < items.length; i++) normaliseRow(T, i, K);
  const confusion = raters.map(() => new Float64Array(K * K));
  const prior = new Float64Array(K);
  let iterations = 0;
  let previous = -Infinity;
  for (; iterations < maxIterations; iterations++) {
    // M step: priors and confusions from the current posteriors.
    prior.fill(0);
    for (let i = 0; i < items.length; i++) for (let k = 0; k < K; k++) prior[k]! += T[i * K + k]! / items.length;
    for (const c of confusion) c.fill(SMOOTHING);
    for (const r of ratings) {
      const i = itemIx.get(r.item)!;
      const c = confusion[raterIx.get(r.rater)!]!;
      for (let k = 0; k < K; k++) c[k * K + r.label]! += T[i * K + k]!;
    }
    for (const c of confusion) for (let k = 0; k < K; k++) normaliseRow(c, k, K);
    // E step: posteriors in log space; the log-likelihood decides convergence.
    const logT = new Float64Array(items.length * K);
    for (let i = 0; i < items.length; i++) for (let k = 0; k < K; k++) logT[i * K + k] = Math.log(Math.max(prior[k]!, 1e-300));
    for (const r of ratings) {
      const i = itemIx.get(r.item)!;
      const c = confusion[raterIx.get(r.rater)!]!;
      for (let k = 0; k < K; k++) logT[i * K + k]! += Math.log(c[k * K + r.label]!);
    }
    let likelihood = 0;
    for (let i = 0; i < items.length; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, logT[i * K + k]!);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(logT[i * K + k]! - max);
      likelihood += max + Math.log(s);
      for (let k = 0; k < K; k++) T[i * K + k] = Math.exp(logT[i * K + k]! - max) / s;
    }
    if (Math.abs(likelihood - previous) < tolerance * Math.abs(likelihood)) {
      iterations++;
      break;
    }
    previous = likelihood;
  }
  const accuracy = confusion.map((c) => {
    let a = 0;
    for (let k = 0; k < K; k++) a += prior[k]! * c[k * K + k]!;
    return a;
  });
  return { items, posterior: T, raters, confusion, accuracy, prior, iterations };
}

function normaliseRow(m: Float64Array, row: number, K: number): void {
  let s = 0;
  for (let k = 0; k < K; k++) s += m[row * K + k]!;
  if (s > 0) for (let k = 0; k < K; k++) m[row * K + k]! /= s;
}

/** Index of the largest value (the first of equals). */
export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

/** Majority label of each item (ties to the smallest class index; -1 when an item has no rating). */
export function majorityVote(ratings: readonly Rating[], classes: number, items: readonly number[]): Int32Array {
  const table = countTable(ratings, classes);
  return Int32Array.from(items, (item) => {
    const row = table.get(item);
    return row ? argmax(row) : -1;
  });
}
