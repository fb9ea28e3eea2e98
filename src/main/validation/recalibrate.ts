import { DermFuseError } from '../../shared/errors.ts';
import { MODES, type Mode } from '../../shared/results.ts';
import type { HeldOutFigures, RecalibrationReport } from '../../shared/validation.ts';
import { auc, brier, calibrationError } from '../ml/fusion/metrics.ts';
import { permutation, rngFrom } from '../ml/stats/random.ts';
import type { ScoredSet } from './externalMetrics.ts';

/** For the fit, probabilities are clipped this far from 0 and 1 before their logit: a saturated score stays finite. */
const CLIP = 1e-9;
/** A small ridge keeps the fit finite on a slice the score separates perfectly. */
const RIDGE = 1e-3;
/** The slope is kept above this: a fitted map must stay increasing, so that it cannot reorder (or tie) the images. */
const MIN_SLOPE = 1e-3;
const NEWTON_STEPS = 100;

/** Unclipped when the map is applied (±∞ at 0 and 1 map back to 0 and 1), so that it never ties two images. */
const logit = (p: number) => Math.log(p) - Math.log1p(-p);
const clippedLogit = (p: number) => logit(Math.min(1 - CLIP, Math.max(CLIP, p)));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Whole patients in a seeded random order, taken until the slice holds at least `fraction` of the images: no patient
 * has images on both sides. True marks an image of the slice.
 */
export function groupSlice(groups: readonly string[], fraction: number, seed: number): boolean[] {
  const ids = [...new Set(groups)];
  const size = new Map<string, number>();
  for (const g of groups) size.set(g, (size.get(g) ?? 0) + 1);
  const chosen = new Set<string>();
  let taken = 0;
  for (const k of permutation(ids.length, rngFrom(seed))) {
    if (taken >= fraction * groups.length) break;
    chosen.add(ids[k]!);
    taken += size.get(ids[k]!)!;
  }
  return groups.map((g) => chosen.has(g));
}

/** Penalised log-loss of σ(a·x + b) against y (the objective of the fit). */
function loss(x: Float64Array, y: ArrayLike<number>, a: number, b: number): number {
  let l = (RIDGE / 2) * (a * a + b * b);
  for (let i = 0; i < x.length; i++) {
    const z = a * x[i]! + b;
    // log(1 + e^z) − y·z, computed without overflow.
    l += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i]! * z;
  }
  return l;
}

/**
 * Platt scaling: p' = σ(a · logit p + b), fitted by Newton's method on the log-loss with step halving (a full step
 * can overshoot where the scores nearly separate the slice), and a kept above MIN_SLOPE.
 */
export function fitPlatt(p: ArrayLike<number>, y: ArrayLike<number>): { slope: number; intercept: number } {
  const x = Float64Array.from({ length: p.length }, (_, i) => clippedLogit(p[i]!));
  let a = 1;
  let b = 0;
  let current = loss(x, y, a, b);
  for (let step = 0; step < NEWTON_STEPS; step++) {
    let ga = RIDGE * a;
    let gb = RIDGE * b;
    let haa = RIDGE;
    let hab = 0;
    let hbb = RIDGE;
    for (let i = 0; i < x.length; i++) {
      const s = sigmoid(a * x[i]! + b);
      const w = s * (1 - s);
      ga += (s - y[i]!) * x[i]!;
      gb += s - y[i]!;
      haa += w * x[i]! * x[i]!;
      hab += w * x[i]!;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let t = 1;
    let next = { a: Math.max(MIN_SLOPE, a - da), b: b - db };
    let l = loss(x, y, next.a, next.b);
    while (!(l <= current) && t > 1e-6) {
      t /= 2;
      next = { a: Math.max(MIN_SLOPE, a - t * da), b: b - t * db };
      l = loss(x, y, next.a, next.b);
    }
    if (!(l <= current)) break;
    const moved = Math.abs(next.a - a) + Math.abs(next.b - b);
    ({ a, b } = next);
    current = l;
    if (moved < 1e-10) break;
  }
  return { slope: a, intercept: b };
}

function figures(probs: Float64Array, labels: Int32Array): HeldOutFigures {
  const p = { probs, classes: 2, labels };
  const cal = calibrationError(p);
  return { auc: auc(p), calibrationError: cal.ece, brier: brier(p), calibration: cal.curve };
}

/**
 * Each mode's positive score recalibrated on a patient-grouped slice of `fraction` of the external images, and its
 * figures on the remaining images before and after. Binary runs only: INVALID_VALUE otherwise, or when the slice or
 * the rest lacks a class.
 */
export function recalibrate(set: ScoredSet, fraction: number, seed: number): RecalibrationReport {
  if (set.classes !== 2) throw new DermFuseError('INVALID_VALUE', `--recalibrate: recalibration is for binary runs; this run has ${set.classes} classes.`);
  const inSlice = groupSlice(set.groups, fraction, seed);
  const fitIdx = inSlice.flatMap((s, i) => (s ? [i] : []));
  const restIdx = inSlice.flatMap((s, i) => (s ? [] : [i]));
  const yFit = Int32Array.from(fitIdx, (i) => set.labels[i]!);
  const yRest = Int32Array.from(restIdx, (i) => set.labels[i]!);
  for (const [what, y] of [
    ['slice', yFit],
    ['held-out part', yRest],
  ] as const)
    if (!y.includes(0) || !y.includes(1))
      throw new DermFuseError(
        'INVALID_VALUE',
        `--recalibrate ${fraction}: the ${what} (${y.length} images) lacks a class; choose a fraction that leaves both classes on both sides.`,
      );
  const groupsOf = (idx: number[]) => new Set(idx.map((i) => set.groups[i]!)).size;
  const modes = Object.fromEntries(
    MODES.map((m) => {
      const pos = (idx: number[]) => idx.map((i) => set.probs[m][i * 2 + 1]!);
      const fit = fitPlatt(pos(fitIdx), yFit);
      const before = new Float64Array(restIdx.length * 2);
      const after = new Float64Array(restIdx.length * 2);
      pos(restIdx).forEach((p, q) => {
        const r = sigmoid(fit.slope * logit(p) + fit.intercept);
        before.set([1 - p, p], q * 2);
        after.set([1 - r, r], q * 2);
      });
      return [m, { ...fit, before: figures(before, yRest), after: figures(after, yRest) }];
    }),
  ) as Record<Mode, RecalibrationReport['modes'][Mode]>;
  return { fraction, fit: { images: fitIdx.length, groups: groupsOf(fitIdx) }, heldOut: { images: restIdx.length, groups: groupsOf(restIdx) }, modes };
}
