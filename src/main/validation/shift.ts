import { MODES, type Mode } from '../../shared/results.ts';
import type { FieldValue } from '../../shared/types.ts';
import type { FieldShift, ImageShift, PrevalenceShift } from '../../shared/validation.ts';
import { fitHead, predictHead, type HeadData } from '../ml/fusion/heads.ts';
import { drawCounts, groupBootstrapSamples, percentileInterval, resampledAuc, rocAuc } from '../ml/fusion/metrics.ts';
import { fitPcaTf, pcaProject } from '../ml/fusion/pcaTf.ts';
import { rngFrom } from '../ml/stats/random.ts';
import { groupedStratifiedFolds } from '../ml/stats/splits.ts';
import { binaryRates } from './externalMetrics.ts';

/**
 * Conventional reading of a standardised mean difference and a population stability index: below 0.1 negligible,
 * 0.1-0.25 moderate, above 0.25 a major shift. A change of the share missing by more than 10 or 25 points reads alike.
 * Both are noisy on a few dozen images (two samples of one distribution, 150 and 60, read "moderate or worse" most
 * of the time), so a level is given only when the evidence clears the cut-off: the SMD's and the missing share's
 * 95% intervals (SHIFT_RESAMPLES bootstrap resamples of each side; the normal interval of a difference of shares)
 * must lie beyond it, and a PSI counts only when its permutation p-value (SHIFT_RESAMPLES relabellings of the pooled
 * values) is below PSI_ALPHA: 1%, not 5%, since every field is tested twice or three times (the SMD interval, the
 * PSI, the missing share) and several fields at once, and the SMD's interval already catches a moved mean. PSI_FLOOR keeps PSI finite where a bin or value is empty on one side. The two-sample
 * classifier uses SHIFT_FOLDS patient-grouped folds; LEAST_LIKE external images are named; at most
 * MAX_TRAIN_PAIRS_ROWS training images are compared with each other for the within-training similarity (bounds the
 * quadratic cost).
 */
const [MODERATE, MAJOR, PSI_FLOOR, PSI_ALPHA, SHIFT_RESAMPLES] = [0.1, 0.25, 1e-4, 0.01, 500];
const [SHIFT_FOLDS, LEAST_LIKE, MAX_TRAIN_PAIRS_ROWS] = [5, 8, 600];

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(xs.length, 1);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(xs.length - 1, 1));
};
/** The level an interval clears: the cut-off it lies wholly beyond (either side of 0). */
const levelOf = ([lo, hi]: [number, number]): FieldShift['level'] => {
  const beyond = lo > 0 ? lo : hi < 0 ? -hi : 0;
  return beyond >= MAJOR ? 'major' : beyond >= MODERATE ? 'moderate' : 'none';
};
/** A PSI's level, when its permutation p-value says it is more than noise. */
const psiLevel = (p: number | null, pValue: number | null): FieldShift['level'] =>
  p === null || pValue === null || pValue >= PSI_ALPHA ? 'none' : p >= MAJOR ? 'major' : p >= MODERATE ? 'moderate' : 'none';
const worst = (...ls: FieldShift['level'][]) => (ls.includes('major') ? 'major' : ls.includes('moderate') ? 'moderate' : 'none');

const smdOf = (xs: number[], ys: number[]) => {
  const pooled = Math.sqrt((sd(xs) ** 2 + sd(ys) ** 2) / 2);
  return pooled > 0 ? (mean(ys) - mean(xs)) / pooled : 0;
};

/** 95% percentile interval of the SMD over bootstrap resamples of each side independently. */
function smdInterval(xs: number[], ys: number[], rand: () => number): [number, number] {
  const draw = (v: number[]) => Array.from(v, () => v[Math.floor(rand() * v.length)]!);
  const boot = Array.from({ length: SHIFT_RESAMPLES }, () => smdOf(draw(xs), draw(ys))).sort((a, b) => a - b);
  return [boot[Math.floor(0.025 * (boot.length - 1))]!, boot[Math.ceil(0.975 * (boot.length - 1))]!];
}

/** The share of the pooled values' relabellings (same sizes) whose statistic is at least the observed one. */
function permutationP<T>(xs: T[], ys: T[], stat: (a: T[], b: T[]) => number, rand: () => number): number {
  const observed = stat(xs, ys);
  const pool = [...xs, ...ys];
  let atLeast = 0;
  for (let r = 0; r < SHIFT_RESAMPLES; r++) {
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    if (stat(pool.slice(0, xs.length), pool.slice(xs.length)) >= observed - 1e-12) atLeast++;
  }
  return (atLeast + 1) / (SHIFT_RESAMPLES + 1);
}

/** 95% normal interval of a difference of two shares (external − training). */
function shareDifference(a: number, na: number, b: number, nb: number): [number, number] {
  const half = 1.96 * Math.sqrt((a * (1 - a)) / Math.max(na, 1) + (b * (1 - b)) / Math.max(nb, 1));
  return [b - a - half, b - a + half];
}

function psi(train: number[], external: number[]): number {
  const t = train.reduce((s, x) => s + x, 0) || 1;
  const e = external.reduce((s, x) => s + x, 0) || 1;
  return train.reduce((s, tc, k) => {
    const pt = Math.max(tc / t, PSI_FLOOR);
    const pe = Math.max(external[k]! / e, PSI_FLOOR);
    return s + (pe - pt) * Math.log(pe / pt);
  }, 0);
}

/** Counts of values in bins cut at the training deciles. */
function decileCounts(edges: number[], xs: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of xs) {
    let k = 0;
    while (k < edges.length && x > edges[k]!) k++;
    counts[k]!++;
  }
  return counts;
}

/** Training deciles of numbers (distinct cut points). */
function decileEdges(xs: number[]): number[] {
  const sorted = [...xs].sort((a, b) => a - b);
  return [...new Set(Array.from({ length: 9 }, (_, k) => sorted[Math.floor(((k + 1) * sorted.length) / 10)]!))];
}

const numberPsi = (xs: number[], ys: number[]) => {
  const edges = decileEdges(xs);
  return psi(decileCounts(edges, xs), decileCounts(edges, ys));
};

/**
 * Per run field, training against external: the share missing, for numbers the means, SDs and standardised mean
 * difference with its bootstrap interval, for categories each value's share; the PSI over training deciles or
 * values with its permutation p-value; and a level that counts only what clears the noise (see the constants).
 */
export function fieldShifts(
  fields: { name: string; type: string }[],
  from: (string | null)[],
  train: FieldValue[][],
  external: FieldValue[][],
  seed = 1,
): FieldShift[] {
  const rand = rngFrom(seed);
  return fields.map((f, j) => {
    const tv = train.map((r) => r[j] ?? null);
    const ev = external.map((r) => r[j] ?? null);
    const missing = {
      train: tv.filter((v) => v === null).length / Math.max(tv.length, 1),
      external: ev.filter((v) => v === null).length / Math.max(ev.length, 1),
    };
    const missLevel = levelOf(shareDifference(missing.train, tv.length, missing.external, ev.length));
    const base = { field: f.name, from: from[j] ?? null, type: f.type, missing };
    if (f.type === 'number' || f.type === 'ordinal') {
      const xs = tv.filter((v) => v !== null).map(Number);
      const ys = ev.filter((v) => v !== null).map(Number);
      if (xs.length < 2 || ys.length < 2) return { ...base, numbers: null, shares: null, psi: null, psiP: null, level: missLevel };
      const smdCI = smdInterval(xs, ys, rand);
      const p = numberPsi(xs, ys);
      const psiP = permutationP(xs, ys, numberPsi, rand);
      return {
        ...base,
        numbers: { train: { mean: mean(xs), sd: sd(xs) }, external: { mean: mean(ys), sd: sd(ys) }, smd: smdOf(xs, ys), smdCI },
        shares: null,
        psi: p,
        psiP,
        level: worst(levelOf(smdCI), psiLevel(p, psiP), missLevel),
      };
    }
    const values = [...new Set([...tv, ...ev].filter((v) => v !== null).map(String))].sort();
    const share = (vs: string[]) => values.map((v) => vs.filter((x) => x === v).length / Math.max(vs.length, 1));
    const present = (vs: FieldValue[]) => vs.filter((v) => v !== null).map(String);
    const [pt, pe] = [present(tv), present(ev)];
    const st = share(pt);
    const se = share(pe);
    const p = pe.length > 0 ? psi(st, se) : null;
    const psiP = pe.length > 0 && pt.length > 0 ? permutationP(pt, pe, (a, b) => psi(share(a), share(b)), rand) : null;
    return {
      ...base,
      numbers: null,
      shares: values.map((value, k) => ({ value, train: st[k]!, external: se[k]! })),
      psi: p,
      psiP,
      level: worst(psiLevel(p, psiP), missLevel),
    };
  });
}

/** Rows scaled to unit length, for cosine similarities. */
function unitRows(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
    const norm = Math.sqrt(s) || 1;
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j]! / norm;
  }
  return out;
}

/** For each row of `a`, the most similar row of `b` (skipping the same index when `self`). */
function nearest(a: Float32Array, na: number, b: Float32Array, nb: number, d: number, self = false): { sim: number; at: number }[] {
  const out: { sim: number; at: number }[] = [];
  for (let i = 0; i < na; i++) {
    let best = -Infinity;
    let at = -1;
    for (let k = 0; k < nb; k++) {
      if (self && k === i) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += a[i * d + j]! * b[k * d + j]!;
      if (s > best) {
        best = s;
        at = k;
      }
    }
    out.push({ sim: best, at });
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

/**
 * Can the run's image features tell training from external images? A linear classifier on principal components,
 * grouped k-fold: its out-of-fold AUC with a group-bootstrap interval (0.5: indistinguishable). Also the external
 * images least like any training image, by cosine similarity in components of both sets.
 *
 * The components are refitted in every fold on that fold's training rows of *both* sets. The run's own PCA, fitted
 * on training images only, fits them better than any external image (its top axes hold the training images'
 * particular variance), so even an unshifted external set sat apart and the classifier learnt from it in reverse:
 * a mean AUC of about 0.40 under no shift. Fitted inside the fold the held-out rows play no part in the axes, and
 * both sets shape them alike. `groups` should be patients where a side has them (whatever the run grouped by):
 * a patient's photos on both sides of a fold let the classifier recognise the patient, not the set.
 */
export function imageShift(
  k: number,
  train: { vectors: Float32Array; groups: string[]; shas: string[]; ids: string[] },
  external: { vectors: Float32Array; groups: string[]; shas: string[]; ids: string[] },
  seed: number,
): ImageShift {
  const nt = train.ids.length;
  const ne = external.ids.length;
  const n = nt + ne;
  const dim = train.vectors.length / Math.max(nt, 1);
  const rows = new Float32Array(n * dim);
  rows.set(train.vectors);
  rows.set(external.vectors, nt * dim);
  const labels = Int32Array.from({ length: n }, (_, i) => (i < nt ? 0 : 1));
  const groups = [...train.groups.map((g) => `train:${g}`), ...external.groups.map((g) => `external:${g}`)];
  const shas = [...train.shas, ...external.shas];
  const weights = Float32Array.from(labels, (l) => n / (2 * (l === 1 ? ne : nt)));
  const fold = groupedStratifiedFolds(
    groups.map((g, i) => ({ group: g, sha256: shas[i]!, label: labels[i]! })),
    SHIFT_FOLDS,
    seed,
  );
  /** Rows projected on components fitted on `fit` (row indices), scaled as the run's PCA scales them. */
  const project = (fit: number[]): { x: Float32Array; k: number } => {
    const sub = new Float32Array(fit.length * dim);
    fit.forEach((i, q) => sub.set(rows.subarray(i * dim, (i + 1) * dim), q * dim));
    const pca = fitPcaTf(sub, fit.length, dim, k, seed);
    return { x: pcaProject(pca, rows, n), k: pca.k };
  };
  const oof = new Float64Array(n * 2);
  for (let f = 0; f < SHIFT_FOLDS; f++) {
    const trainIdx = [...Array(n).keys()].filter((i) => fold[i] !== f);
    const testIdx = [...Array(n).keys()].filter((i) => fold[i] === f);
    if (testIdx.length === 0) continue;
    const p = project(trainIdx);
    const data: HeadData = { n, image: p.x, imageDim: p.k, meta: null, metaDim: 0, labels, classes: 2, weights, groups, shas };
    const scores = predictHead(fitHead('linear', data, trainIdx, seed + f), data, testIdx);
    testIdx.forEach((i, q) => oof.set(scores.subarray(q * 2, q * 2 + 2), i * 2));
  }
  const value = rocAuc(
    Array.from({ length: n }, (_, i) => oof[i * 2 + 1]!),
    Array.from(labels, (l) => l === 1),
  );
  const aucOf = resampledAuc({ probs: oof, classes: 2, labels });
  const boot = groupBootstrapSamples(groups, 1000, seed).map((s) => aucOf(drawCounts(n, s)));
  // Similarity is descriptive, no held-out figure: components of both sets together.
  const { x, k: kk } = project([...Array(n).keys()]);
  const unit = unitRows(x, n, kk);
  const tUnit = unit.subarray(0, nt * kk);
  const eUnit = unit.subarray(nt * kk);
  const near = nearest(eUnit, ne, tUnit, nt, kk);
  const tSample = Math.min(nt, MAX_TRAIN_PAIRS_ROWS);
  const within = nearest(tUnit, tSample, tUnit, nt, kk, true);
  const leastLike = near
    .map((m, i) => ({ externalId: external.ids[i]!, similarity: m.sim, nearest: train.ids[m.at]! }))
    .sort((a, b) => a.similarity - b.similarity)
    .slice(0, LEAST_LIKE);
  return {
    auc: { value, ci: percentileInterval(boot) },
    folds: SHIFT_FOLDS,
    leastLike,
    medianSimilarity: { external: median(near.map((m) => m.sim)), train: median(within.map((m) => m.sim)) },
  };
}

/** Predictive values from sensitivity, specificity and prevalence (Bayes). */
function predictive(se: number, sp: number, p: number): { ppv: number; npv: number } {
  return { ppv: (se * p) / (se * p + (1 - sp) * (1 - p)), npv: (sp * (1 - p)) / (sp * (1 - p) + (1 - se) * p) };
}

/**
 * Binary runs: the positive share in training and external data, and per mode what the run's internal sensitivity
 * and specificity give as PPV and NPV at each prevalence: how much of the external change prevalence alone explains.
 */
export function prevalenceShift(internal: { labels: Int32Array; decided: Record<Mode, Int32Array> }, externalLabels: Int32Array): PrevalenceShift {
  const share = (l: Int32Array) => l.reduce((s, x) => s + (x === 1 ? 1 : 0), 0) / Math.max(l.length, 1);
  const train = share(internal.labels);
  const external = share(externalLabels);
  return {
    train,
    external,
    modes: Object.fromEntries(
      MODES.map((m) => {
        const r = binaryRates(internal.labels, internal.decided[m]);
        return [
          m,
          { internal: predictive(r.sensitivity, r.specificity, train), internalAtExternalPrevalence: predictive(r.sensitivity, r.specificity, external) },
        ];
      }),
    ) as PrevalenceShift['modes'],
  };
}
