/** Small dense linear algebra on Float64Array, row-major. Enough for PCA and standardisation; no dependencies. */

/** Orthonormalises the columns of an n×l matrix in place (modified Gram-Schmidt); drops nothing, zeroes degenerate columns. */
export function orthonormaliseColumns(m: Float64Array, n: number, l: number): void {
  for (let j = 0; j < l; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += m[i * l + j]! * m[i * l + p]!;
      for (let i = 0; i < n; i++) m[i * l + j]! -= dot * m[i * l + p]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += m[i * l + j]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) m[i * l + j] = norm > 1e-12 ? m[i * l + j]! / norm : 0;
  }
}

/** Eigen-decomposition of a small symmetric l×l matrix by cyclic Jacobi rotations: values descending, vectors as columns. */
export function symmetricEigen(a: Float64Array, l: number): { values: number[]; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(l * l);
  for (let i = 0; i < l; i++) v[i * l + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < l; p++) for (let q = p + 1; q < l; q++) off += m[p * l + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < l; p++) {
      for (let q = p + 1; q < l; q++) {
        const apq = m[p * l + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * l + q]! - m[p * l + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < l; k++) {
          const mkp = m[k * l + p]!;
          const mkq = m[k * l + q]!;
          m[k * l + p] = c * mkp - s * mkq;
          m[k * l + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < l; k++) {
          const mpk = m[p * l + k]!;
          const mqk = m[q * l + k]!;
          m[p * l + k] = c * mpk - s * mqk;
          m[q * l + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < l; k++) {
          const vkp = v[k * l + p]!;
          const vkq = v[k * l + q]!;
          v[k * l + p] = c * vkp - s * vkq;
          v[k * l + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: l }, (_, i) => i).sort((x, y) => m[y * l + y]! - m[x * l + x]!);
  const vectors = new Float64Array(l * l);
  order.forEach((src, dst) => {
    for (let k = 0; k < l; k++) vectors[k * l + dst] = v[k * l + src]!;
  });
  return { values: order.map((i) => m[i * l + i]!), vectors };
}

/** True when every value is a finite number (no NaN, no infinity): what a feature vector must be to be stored or used. */
export function allFinite(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/**
 * Solves a·x = b for a symmetric positive definite l×l matrix (Cholesky). Returns null when `a` is not positive
 * definite to working precision (the caller damps and tries again). `a` is left untouched.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, l: number): Float64Array | null {
  const c = new Float64Array(l * l);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * l + j]!;
      for (let k = 0; k < j; k++) s -= c[i * l + k]! * c[j * l + k]!;
      if (i === j) {
        if (!(s > 1e-14 * Math.max(1, Math.abs(a[i * l + i]!)))) return null;
        c[i * l + i] = Math.sqrt(s);
      } else c[i * l + j] = s / c[j * l + j]!;
    }
  }
  const y = new Float64Array(l);
  for (let i = 0; i < l; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= c[i * l + k]! * y[k]!;
    y[i] = s / c[i * l + i]!;
  }
  for (let i = l - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < l; k++) s -= c[k * l + i]! * y[k]!;
    y[i] = s / c[i * l + i]!;
  }
  return y;
}
