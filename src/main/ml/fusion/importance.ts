import { IMAGE_BLOCK, type ImportanceRow } from '../../../shared/explain.ts';
import { permutation, rngFrom } from '../stats/random.ts';
import type { HeadData } from './heads.ts';
import { auc, groupBootstrapSamples, percentileInterval, subset } from './metrics.ts';
import { fieldColumns, type TabularEncoder } from './tabular.ts';

/** Shuffles per block and fold: the drop is averaged over these, as one shuffle's luck would blur a small drop. */
export const PERMUTATION_REPEATS = 3;
/** Patient resamples for the interval of each drop: enough for 2.5/97.5 percentiles to settle to about ±0.005. */
export const IMPORTANCE_RESAMPLES = 200;

/** Out-of-fold fused probabilities with one block shuffled, per block, per repeat (n × classes each). */
export type PermutedPredictions = Record<string, Float64Array[]>;

/**
 * One outer fold's fused predictions of its test rows with one block shuffled among them (each field's columns, or
 * the image block's components), PERMUTATION_REPEATS times per block. `predict` is the fold's fused model applied to
 * rows 0..m-1 of the data it is given.
 */
export function permutedFold(
  data: HeadData,
  encoder: TabularEncoder,
  fields: readonly { name: string }[],
  test: number[],
  predict: (d: HeadData, idx: number[]) => Float64Array,
  seed: number,
): Record<string, Float64Array[]> {
  const m = test.length;
  const pick = (src: Float32Array | null, dim: number) => {
    if (!src) return null;
    const out = new Float32Array(m * dim);
    test.forEach((i, k) => out.set(src.subarray(i * dim, (i + 1) * dim), k * dim));
    return out;
  };
  const image = pick(data.image, data.imageDim);
  const meta = pick(data.meta, data.metaDim);
  const idx = Array.from({ length: m }, (_, k) => k);
  const base: HeadData = { ...data, n: m, image, meta };
  const rand = rngFrom(seed);
  const blocks: { name: string; apply(order: number[]): HeadData }[] = [];
  if (meta) {
    const columns = fieldColumns(encoder);
    fields.forEach((f, j) => {
      const [start, end] = columns[j]!;
      blocks.push({
        name: f.name,
        apply(order) {
          const shuffled = meta.slice();
          order.forEach((from, k) => shuffled.set(meta.subarray(from * data.metaDim + start, from * data.metaDim + end), k * data.metaDim + start));
          return { ...base, meta: shuffled };
        },
      });
    });
  }
  if (image)
    blocks.push({
      name: IMAGE_BLOCK,
      apply(order) {
        const shuffled = new Float32Array(image.length);
        order.forEach((from, k) => shuffled.set(image.subarray(from * data.imageDim, (from + 1) * data.imageDim), k * data.imageDim));
        return { ...base, image: shuffled };
      },
    });
  const out: Record<string, Float64Array[]> = {};
  for (const b of blocks) out[b.name] = Array.from({ length: PERMUTATION_REPEATS }, () => predict(b.apply(permutation(m, rand)), idx));
  return out;
}

/**
 * Permutation importance on out-of-fold predictions: per block, the AUC of the fused model minus its AUC with that
 * block shuffled (mean over the repeats), with a percentile interval from resampling patients (the same resample for
 * both AUCs, so the interval is of the drop itself). Largest drop first.
 */
export function permutationImportance(
  oof: Float64Array,
  permuted: PermutedPredictions,
  labels: Int32Array,
  classes: number,
  groups: readonly string[],
  seed: number,
  resamples = IMPORTANCE_RESAMPLES,
): { auc: number; rows: Omit<ImportanceRow, 'leakage'>[] } {
  const base = { probs: oof, classes, labels };
  const samples = groupBootstrapSamples(groups, resamples, seed);
  const baseBoot = samples.map((s) => auc(subset(base, s)));
  const full = auc(base);
  const rows = Object.entries(permuted).map(([block, repeats]) => {
    const preds = repeats.map((probs) => ({ probs, classes, labels }));
    const meanAuc = (f: (p: (typeof preds)[number]) => number) => preds.reduce((s, p) => s + f(p), 0) / preds.length;
    const drop = full - meanAuc((p) => auc(p));
    const boot = samples.map((s, r) => baseBoot[r]! - meanAuc((p) => auc(subset(p, s)))).filter((x) => !Number.isNaN(x));
    return { block, drop: round(drop), ci: percentileInterval(boot).map(round) as [number, number] };
  });
  rows.sort((a, b) => b.drop - a.drop);
  return { auc: full, rows };
}

const round = (x: number) => Math.round(x * 1e5) / 1e5;
