import { orthonormaliseColumns, symmetricEigen } from './linalg.ts';
import { rngFrom } from './random.ts';

export interface PcaModel {
  dim: number;
  k: number;
  mean: Float64Array;
  /** k × dim, row-major: one principal axis per row. */
  components: Float64Array;
  /** Variance along each component. */
  variances: number[];
  /**
   * No reduction: features pass through unchanged (k = dim; mean, components and variances empty). A fine-tuned
   * network's heads were trained end to end on its pooled features as they are.
   */
  identity?: boolean;
}

/** The pass-through "projection" of `dim` features (see PcaModel.identity). */
export function identityPca(dim: number): PcaModel {
  return { dim, k: dim, mean: new Float64Array(0), components: new Float64Array(0), variances: [], identity: true };
}

/** Seeded Gaussian numbers (Box-Muller), so a fit is reproducible. */
function gaussian(seed: number): () => number {
  const uniform = rngFrom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Oversampling and power iterations of the randomized range finder (Halko, Martinsson & Tropp 2011). */
const OVERSAMPLE = 8;
const POWER_ITERATIONS = 4;

/**
 * Fits the top-k principal components of the rows by randomized SVD: cost O(n·d·(k+8)) per pass, so it scales
 * to tens of thousands of 1280-d embeddings.
 */
export function fitPca(rows: readonly ArrayLike<number>[], k: number, seed = 1): PcaModel {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const kk = Math.max(1, Math.min(k, n, d));
  const l = Math.min(kk + OVERSAMPLE, n, d);
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;

  // A = rows - mean, used implicitly.
  const times = (omega: Float64Array): Float64Array => {
    const y = new Float64Array(n * l);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      for (let j = 0; j < d; j++) {
        const a = r[j]! - mean[j]!;
        if (a === 0) continue;
        for (let c = 0; c < l; c++) y[i * l + c]! += a * omega[j * l + c]!;
      }
    }
    return y;
  };
  const timesT = (y: Float64Array): Float64Array => {
    const z = new Float64Array(d * l);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      for (let j = 0; j < d; j++) {
        const a = r[j]! - mean[j]!;
        if (a === 0) continue;
        for (let c = 0; c < l; c++) z[j * l + c]! += a * y[i * l + c]!;
      }
    }
    return z;
  };

  const g = gaussian(seed);
  let omega: Float64Array = new Float64Array(d * l).map(() => g());
  let q: Float64Array = times(omega);
  orthonormaliseColumns(q, n, l);
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    omega = timesT(q);
    orthonormaliseColumns(omega, d, l);
    q = times(omega);
    orthonormaliseColumns(q, n, l);
  }
  // B = Qᵀ A is l × d; stored transposed as Bt = Aᵀ Q (d × l).
  const bt = timesT(q);
  const bbt = new Float64Array(l * l);
  for (let a = 0; a < l; a++) {
    for (let b = a; b < l; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += bt[j * l + a]! * bt[j * l + b]!;
      bbt[a * l + b] = s;
      bbt[b * l + a] = s;
    }
  }
  const { values, vectors } = symmetricEigen(bbt, l);
  const components = new Float64Array(kk * d);
  for (let c = 0; c < kk; c++) {
    const sigma = Math.sqrt(Math.max(values[c]!, 0));
    if (sigma < 1e-12) continue;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let a = 0; a < l; a++) s += bt[j * l + a]! * vectors[a * l + c]!;
      components[c * d + j] = s / sigma;
    }
  }
  return { dim: d, k: kk, mean, components, variances: values.slice(0, kk).map((v) => v / Math.max(n - 1, 1)) };
}

/** Projects one row onto the fitted components. */
export function pcaTransform(model: PcaModel, row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(model.k);
  for (let c = 0; c < model.k; c++) {
    let s = 0;
    for (let j = 0; j < model.dim; j++) s += (row[j]! - model.mean[j]!) * model.components[c * model.dim + j]!;
    out[c] = s;
  }
  return out;
}
