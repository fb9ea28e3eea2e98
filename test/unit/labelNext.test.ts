import { describe, expect, it } from 'vitest';
import { labellingOrder, uncertainties } from '../../src/main/quality/labelNext.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';

describe('label next', () => {
  it('scores a tie as most uncertain and a sure prediction as least', () => {
    const u = uncertainties(Float64Array.from([0.5, 0.5, 0.99, 0.01, 0.2, 0.3, 0.5]), 2);
    expect(Array.from(u.subarray(0, 2))).toEqual([1, expect.closeTo(0.02, 10)]);
    expect(uncertainties(Float64Array.from([0.2, 0.3, 0.5]), 3)[0]).toBeCloseTo(0.8, 10);
  });

  it('spreads the first picks over clusters instead of taking twenty copies of the most doubtful lesion', () => {
    const rand = rngFrom(3);
    // Cluster A: 30 near-identical images the model doubts most; clusters B and C: doubted a little less.
    const centres = [0, 1, 2].map(() => Float32Array.from({ length: 64 }, () => rand() * 2 - 1));
    const rows: Float32Array[] = [];
    const doubt: number[] = [];
    [30, 15, 15].forEach((count, c) => {
      for (let i = 0; i < count; i++) {
        rows.push(centres[c]!.map((x) => x + (rand() - 0.5) * 0.05));
        doubt.push(c === 0 ? 0.95 + rand() * 0.05 : 0.8 + rand() * 0.05);
      }
    });
    const u = Float64Array.from(doubt);
    const cluster = (i: number) => (i < 30 ? 0 : i < 45 ? 1 : 2);
    const byDoubt = labellingOrder('uncertainty', u, rows, []);
    expect(new Set(byDoubt.slice(0, 10).map(cluster))).toEqual(new Set([0]));
    const diverse = labellingOrder('uncertainty+diversity', u, rows, []);
    expect(new Set(diverse.slice(0, 3).map(cluster))).toEqual(new Set([0, 1, 2]));
    // Every candidate appears once.
    expect([...diverse].sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
    // A cluster already labelled is visited last among equals.
    const labelledB = Array.from({ length: 5 }, () => centres[1]!.map((x) => x + (rand() - 0.5) * 0.05));
    const withB = labellingOrder('uncertainty+diversity', u, rows, labelledB);
    expect(withB.slice(0, 2).map(cluster).sort()).toEqual([0, 2]);
    const random = labellingOrder('random', u, rows, []);
    expect(random).not.toEqual(byDoubt);
    expect([...random].sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
  });
});
