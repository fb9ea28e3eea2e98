import { describe, expect, it } from 'vitest';
import { fitPca, pcaTransform } from '../../src/main/ml/stats/pca.ts';
import { symmetricEigen } from '../../src/main/ml/stats/linalg.ts';
import { rng } from '../fixtures/generate.ts';

describe('PCA', () => {
  it('finds the eigenvalues of a symmetric matrix', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    expect(values.map((v) => +v.toFixed(9))).toEqual([5, 3, 1]);
    expect(Math.abs(vectors[2 * 3 + 0]!)).toBeCloseTo(1, 9);
  });

  it('recovers the dominant directions of data with a known covariance', () => {
    const r = rng(3);
    const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    const d = 50;
    const rows = Array.from({ length: 2000 }, () => {
      const x = new Float64Array(d).map(() => 0.1 * gauss());
      const a = 5 * gauss();
      const b = 2 * gauss();
      x[3]! += a;
      x[7]! += b;
      x[0]! += 10;
      return x;
    });
    const m = fitPca(rows, 2);
    expect(Math.abs(m.components[3]!)).toBeGreaterThan(0.99);
    expect(Math.abs(m.components[d + 7]!)).toBeGreaterThan(0.99);
    expect(m.variances[0]).toBeGreaterThan(20);
    expect(m.variances[0]).toBeLessThan(30);
    expect(m.mean[0]).toBeCloseTo(10, 1);
    const p = pcaTransform(m, rows[0]!);
    expect(Math.abs(p[0]!)).toBeCloseTo(Math.abs(rows[0]![3]! - m.mean[3]!), 0);
  });
});
