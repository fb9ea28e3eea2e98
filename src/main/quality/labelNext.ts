import { fitPca, pcaTransform } from '../ml/stats/pca.ts';
import { rngFrom } from '../ml/stats/random.ts';

import type { LabelNextStrategy } from '../../shared/quality.ts';

/**
 * The default strategy: the one that reached random order's final AUC (within 0.005) with the fewest labels in the
 * active-learning simulation on PAD (`npm run bench -- active`, 5 seeds x 5 grouped folds, 60 labels then +30 per
 * round): uncertainty 270 labels, uncertainty + diversity 300, random 330 (of 549; all reach AUC 0.889).
 */
export const DEFAULT_STRATEGY: LabelNextStrategy = 'uncertainty';
/** Images ordered by the diversity-aware greedy pass; the rest follow by uncertainty (a labelling session's reach). */
export const DIVERSE_HEAD = 1000;
/** Feature dimensions kept for the distances: PCA to this many keeps a 10,000-image pass to seconds. */
const DISTANCE_DIM = 32;

/** 1 - (top probability - second): 0 for a sure prediction, 1 for a tie (the margin's complement). */
export function uncertainties(probs: Float64Array, classes: number): Float64Array {
  const n = probs.length / classes;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let p1 = -1;
    let p2 = -1;
    for (let c = 0; c < classes; c++) {
      const p = probs[i * classes + c]!;
      if (p > p1) {
        p2 = p1;
        p1 = p;
      } else if (p > p2) p2 = p;
    }
    out[i] = 1 - (p1 - Math.max(p2, 0));
  }
  return out;
}

/** Rows reduced to DISTANCE_DIM principal components (fitted on all of them) and scaled to unit length. */
function reduced(rows: readonly Float32Array[], seed: number): Float64Array[] {
  if (rows.length === 0) return [];
  const model = fitPca(rows, DISTANCE_DIM, seed);
  return rows.map((r) => {
    const z = pcaTransform(model, r);
    const norm = Math.hypot(...z) || 1;
    return z.map((x) => x / norm);
  });
}

const distance = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return 1 - s;
};

/**
 * The order in which to label the candidates (indices into `uncertainty`). 'uncertainty+diversity' picks, one at a
 * time, the candidate with the largest uncertainty x distance to everything labelled or already picked (a greedy
 * k-center weighted by doubt), so a batch is not twenty photos of one lesion; after DIVERSE_HEAD picks the rest
 * follow by uncertainty. Without features it falls back to uncertainty alone.
 */
export function labellingOrder(
  strategy: LabelNextStrategy,
  uncertainty: Float64Array,
  candidates: readonly Float32Array[] | null,
  labelled: readonly Float32Array[] | null,
  seed = 1,
): number[] {
  const n = uncertainty.length;
  const all = Array.from({ length: n }, (_, i) => i);
  if (strategy === 'random') {
    const rand = rngFrom(seed);
    const keys = all.map(() => rand());
    return all.sort((a, b) => keys[a]! - keys[b]!);
  }
  const byDoubt = all.sort((a, b) => uncertainty[b]! - uncertainty[a]! || a - b);
  if (strategy === 'uncertainty' || !candidates || candidates.length !== n || n === 0) return byDoubt;
  const z = reduced([...candidates, ...(labelled ?? [])], seed);
  const cand = z.slice(0, n);
  const known = z.slice(n);
  // Distance to the nearest labelled image (2 = as far as unit vectors go, when nothing is labelled).
  const near = cand.map((c) => known.reduce((m, k) => Math.min(m, distance(c, k)), 2));
  const taken = new Uint8Array(n);
  const order: number[] = [];
  const head = Math.min(DIVERSE_HEAD, n);
  for (let pick = 0; pick < head; pick++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      // A sure prediction still counts a little: far from everything labelled is worth a look.
      const s = (uncertainty[i]! + 0.05) * near[i]!;
      if (s > bestScore) {
        bestScore = s;
        best = i;
      }
    }
    taken[best] = 1;
    order.push(best);
    for (let i = 0; i < n; i++) if (!taken[i]) near[i] = Math.min(near[i]!, distance(cand[i]!, cand[best]!));
  }
  for (const i of byDoubt) if (!taken[i]) order.push(i);
  return order;
}
