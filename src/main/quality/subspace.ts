import { fitPca } from '../ml/stats/pca.ts';
import { permutation, rngFrom } from '../ml/stats/random.ts';

/** Dimensions of the subspace the all-pairs pass works in (exact cosines only where the bound allows a match). */
export const SUBSPACE_DIM = 64;
/** Rows the subspace is fitted on: its axes need a sample, not all of 100,000 images. */
const FIT_SAMPLE = 2000;

/** Unit rows split into their part in a principal subspace and the length of the rest. */
export interface Subspace {
  k: number;
  /** n x k coordinates on orthonormal axes. */
  coords: Float32Array;
  /** Length of each row's part outside the subspace. */
  residual: Float32Array;
}

/**
 * Projects unit rows (n x d) onto the top principal axes of a sample of them. For unit a and b,
 * cos(a, b) = <Pa, Pb> + <Ra, Rb>, and |<Ra, Rb>| <= |Ra| |Rb|: the subspace gives a cheap estimate and an exact bound.
 */
export function projectRows(unit: Float32Array, d: number, present: Uint8Array, seed = 1): Subspace {
  const n = present.length;
  const rows: Float32Array[] = [];
  for (let i = 0; i < n; i++) if (present[i]) rows.push(unit.subarray(i * d, (i + 1) * d));
  const sample =
    rows.length > FIT_SAMPLE
      ? permutation(rows.length, rngFrom(seed))
          .slice(0, FIT_SAMPLE)
          .map((i) => rows[i]!)
      : rows;
  const k = Math.min(SUBSPACE_DIM, d, Math.max(1, sample.length));
  const axes = fitPca(sample, k, seed).components;
  const coords = new Float32Array(n * k);
  const residual = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (!present[i]) continue;
    let inside = 0;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += unit[i * d + j]! * axes[c * d + j]!;
      coords[i * k + c] = s;
      inside += s * s;
    }
    residual[i] = Math.sqrt(Math.max(0, 1 - inside));
  }
  return { k, coords, residual };
}
