import { describe, expect, it } from 'vitest';
import { curveBands, operatingPoint } from '../../src/main/results/curveBands.ts';

describe('curve bands and the operating point', () => {
  it('a perfectly separating score has a band pinned at the top of the ROC plot, and the band contains the curve', () => {
    const scores = [0.9, 0.8, 0.7, 0.3, 0.2, 0.1];
    const positive = scores.map((s) => s > 0.5);
    const weights = [Int32Array.from([1, 1, 1, 1, 1, 1]), Int32Array.from([2, 0, 1, 1, 0, 2]), Int32Array.from([0, 1, 2, 2, 1, 0])];
    const { roc, pr } = curveBands(scores, positive, weights);
    expect(roc.lo.every((y) => y === 1)).toBe(true);
    expect(pr.lo.slice(1).every((y) => y === 1)).toBe(true);
    expect(roc.x).toHaveLength(21);
  });

  it('reads sensitivity, false-positive rate and precision of one class from the confusion matrix', () => {
    // rows true, columns predicted: 8 of 10 positives found, 3 of 30 negatives called positive.
    expect(
      operatingPoint(
        [
          [27, 3],
          [2, 8],
        ],
        1,
      ),
    ).toEqual({ tpr: 0.8, fpr: 0.1, precision: 8 / 11 });
  });
});
