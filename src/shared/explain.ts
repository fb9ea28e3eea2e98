/**
 * Why a model said what it said: occlusion maps, per-case contributions and a run's permutation importance. Pure
 * types and the colour map, shared by main (PNG export) and the renderer (overlays), so both draw the same colours.
 */
import type { Mode } from './results.ts';
import type { FieldValue } from './types.ts';

/** The image block's name among contributions and importance rows. */
export const IMAGE_BLOCK = 'image';

/** Where the model looked: the drop in the explained class's probability when each patch is hidden. */
export interface OcclusionMap {
  /** Patches per side (grid × grid positions); each patch spans 2/(grid+1) of the side, so neighbours overlap by half. */
  grid: number;
  /** grid rows of grid numbers, top row first: larger = a bigger drop when that patch is hidden (negative: hiding it helped). */
  cells: number[][];
  /** Probability of the explained class on the unoccluded image (embedded in the same batch as the occluded copies). */
  probability: number;
  fill: 'grey';
}

/** One block's push on the explained class's log-odds: a metadata field, or the image block (`field: 'image'`). */
export interface Contribution {
  field: string;
  /** The case's value (the image block: null). */
  value: FieldValue;
  /** What it was replaced with, the average training patient: a number's mean, a category's shares ("FACE 40%, BACK 35%"). */
  reference: FieldValue;
  contribution: number;
}

/**
 * How a case's prediction comes apart: from the reference case (the average training patient and the average training
 * image) to the case, in log-odds of the explained class.
 */
export interface Contributions {
  /** 'exact': a linear head on two classes, where the contributions sum to logit − base logit. 'replacement': each block
   * replaced by its reference one at a time, the rest of the way being `interaction`. */
  method: 'exact' | 'replacement';
  head: string;
  baseLogit: number;
  baseProbability: number;
  logit: number;
  probability: number;
  contributions: Contribution[];
  /** logit − base logit − Σ contributions (0 for the exact method). */
  interaction: number;
}

/** Everything explained about one image under one run's final model of one mode. */
export interface Explanation {
  runId: number;
  imageId: number;
  externalId: string;
  mode: Mode;
  /** The explained class (the predicted one unless another was asked for). */
  className: string;
  predicted: string;
  occlusion: OcclusionMap | null;
  contributions: Contributions | null;
  /** Served from the cache of occlusion maps (no embedding this time). */
  cached: boolean;
}

/** One block's permutation importance: drop in out-of-fold AUC when its values are shuffled among the test images. */
export interface ImportanceRow {
  block: string;
  drop: number;
  ci: [number, number];
  /** The leakage check warned about this field. */
  leakage: boolean;
}

/** Permutation importance of the fused model over a run's out-of-fold predictions. */
export interface PermutationImportance {
  mode: 'fused';
  auc: number;
  resamples: number;
  repeats: number;
  /** Largest drop first. */
  rows: ImportanceRow[];
  /** Set when a field the leakage check warned about carries most of the skill. */
  warning: string | null;
}

/** A colour map from 0 (cool) to 1 (hot): dark blue, cyan, yellow, red. Returns [r, g, b] in 0-255. */
const STOPS: [number, number, number, number][] = [
  [0, 30, 40, 120],
  [0.35, 30, 170, 200],
  [0.65, 250, 220, 60],
  [1, 210, 30, 30],
];
export function heatColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let i = 0;
  while (i < STOPS.length - 2 && x > STOPS[i + 1]![0]) i++;
  const [a, b] = [STOPS[i]!, STOPS[i + 1]!];
  const f = (x - a[0]) / (b[0] - a[0]);
  return [1, 2, 3].map((k) => Math.round(a[k]! + f * (b[k]! - a[k]!))) as [number, number, number];
}

/**
 * The map at block resolution: (grid+1) × (grid+1) blocks of the image, each the mean drop of the patches that cover
 * it; what the overlays draw (smoothly scaled up). Also the scale the colours use: 0 to the largest drop.
 */
export function occlusionBlocks(m: Pick<OcclusionMap, 'grid' | 'cells'>): { blocks: number[][]; max: number } {
  const b = m.grid + 1;
  const blocks = Array.from({ length: b }, (_, by) =>
    Array.from({ length: b }, (_, bx) => {
      let sum = 0;
      let count = 0;
      for (const y of [by - 1, by])
        for (const x of [bx - 1, bx])
          if (y >= 0 && x >= 0 && y < m.grid && x < m.grid) {
            sum += m.cells[y]![x]!;
            count++;
          }
      return sum / count;
    }),
  );
  const max = Math.max(1e-9, ...m.cells.flat());
  return { blocks, max };
}
