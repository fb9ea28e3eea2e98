import { describe, expect, it } from 'vitest';
import {
  auc,
  balancedAccuracy,
  brier,
  confusionMatrix,
  drawCounts,
  groupBootstrapSamples,
  percentileInterval,
  predictClasses,
  resampledAuc,
  rocAuc,
  sensitivityAtSpecificity,
  subset,
  youdenThreshold,
} from '../../src/main/ml/fusion/metrics.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { detectLeakage } from '../../src/main/ml/fusion/leakage.ts';
import { encodeRow, fitEncoder } from '../../src/main/ml/fusion/tabular.ts';

describe('metrics', () => {
  it('computes ROC AUC with ties counted half, as the Mann-Whitney statistic', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBe(0.5);
    expect(rocAuc([1, 2, 3], [true, true, true])).toBeNaN();
  });

  it('averages one-vs-rest AUC over classes for multiclass', () => {
    // Classes 0 and 2 are ranked perfectly; for class 1 one positive is above both negatives and one below: 0.5.
    const probs = Float64Array.from([0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8, 0.6, 0.05, 0.35]);
    expect(auc({ probs, classes: 3, labels: Int32Array.from([0, 1, 2, 1]) })).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
  });

  it('derives confusion matrix, balanced accuracy and Brier score', () => {
    const p = { probs: Float64Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7]), classes: 2, labels: Int32Array.from([0, 1, 1, 1]) };
    const cm = confusionMatrix(p.labels, predictClasses(p), 2);
    expect(cm).toEqual([
      [1, 0],
      [1, 2],
    ]);
    expect(balancedAccuracy(cm)).toBeCloseTo((1 + 2 / 3) / 2, 10);
    expect(brier(p)).toBeCloseTo((0.02 + 0.08 + 0.72 + 0.18) / 4, 10);
  });

  it('finds the sensitivity at a given specificity and the Youden threshold', () => {
    const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    const pos = [false, false, false, false, false, true, false, true, true, true];
    expect(sensitivityAtSpecificity(scores, pos, [0.8])['0.8']).toBe(1);
    expect(sensitivityAtSpecificity(scores, pos, [1])['1']).toBe(0.75);
    const t = youdenThreshold(scores, pos);
    expect(t).toBeGreaterThan(0.5);
    expect(t).toBeLessThan(0.6);
  });

  it('draws bootstrap resamples by whole groups', () => {
    const groups = ['a', 'a', 'b', 'c', 'c', 'c'];
    for (const s of groupBootstrapSamples(groups, 50, 3)) {
      const counts = new Map<string, number>();
      for (const i of s) counts.set(groups[i]!, (counts.get(groups[i]!) ?? 0) + 1);
      for (const [g, n] of counts) expect(n % groups.filter((x) => x === g).length).toBe(0);
    }
    expect(percentileInterval([3, 1, 2, NaN, 5, 4])).toEqual([1, 5]);
  });
});

describe('tabular encoding', () => {
  it('standardises numbers, one-hots categories with missing and unseen columns, fitted on training rows', () => {
    const enc = fitEncoder(
      [
        { name: 'age', type: 'number' },
        { name: 'site', type: 'category' },
        { name: 'smoke', type: 'boolean' },
      ],
      [
        [20, 'ARM', true],
        [40, 'LEG', null],
        [null, 'ARM', false],
      ],
    );
    expect(enc.columns).toEqual(['age', 'age:missing', 'site=ARM', 'site=LEG', 'site=<other>', 'smoke', 'smoke:missing']);
    expect(Array.from(encodeRow(enc, [30, 'FACE', null]))).toEqual([0, 0, 0, 0, 1, 0, 1]);
    expect(Array.from(encodeRow(enc, [null, 'LEG', true]))).toEqual([0, 1, 0, 1, 0, 1, 0]);
    expect(encodeRow(enc, [40, 'ARM', false])[0]).toBeCloseTo(1, 10);
  });
});

describe('leakage checks', () => {
  it('flags post-diagnosis fields and fields whose missingness follows the label', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 50 ? 1 : 0));
    const rows = Array.from({ length: 100 }, (_, i) => [i % 2 === 0, i < 50 ? 'F' : i % 5 === 0 ? 'M' : null, 30 + (i % 7)]);
    const w = detectLeakage(
      [
        { name: 'biopsed', type: 'boolean' },
        { name: 'gender', type: 'category' },
        { name: 'age', type: 'number' },
      ],
      rows,
      labels,
      2,
    );
    expect(w.map((x) => [x.field, x.kind])).toEqual([
      ['biopsed', 'post-diagnosis'],
      ['gender', 'missingness'],
    ]);
    expect(w[1]!.message).toMatch(/Cramér's V 0\.\d\d/);
  });
});

describe('resampledAuc', () => {
  it('equals the AUC of the copied resample, for two classes and several, with tied scores and a class left out', () => {
    const rand = rngFrom(5);
    for (const classes of [2, 4]) {
      const n = 300;
      const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * classes));
      // Scores rounded to two decimals: many ties.
      const probs = Float64Array.from({ length: n * classes }, () => Math.round(rand() * 100) / 100);
      const p = { probs, classes, labels };
      const fast = resampledAuc(p);
      const groups = Array.from({ length: n }, (_, i) => `p${i % 97}`);
      for (const s of groupBootstrapSamples(groups, 50, 3)) expect(fast(drawCounts(n, s))).toBeCloseTo(auc(subset(p, s)), 12);
      // A resample without one class: binary NaN as before; several classes average those present.
      const only = Int32Array.from(labels.map((l, i) => (l === 0 ? -1 : i)).filter((i) => i >= 0));
      const expected = auc(subset(p, only));
      if (Number.isNaN(expected)) expect(fast(drawCounts(n, only))).toBeNaN();
      else expect(fast(drawCounts(n, only))).toBeCloseTo(expected, 12);
    }
  });
});
