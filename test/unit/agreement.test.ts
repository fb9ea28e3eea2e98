import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { cohenKappa, dawidSkene, fleissKappa, krippendorffAlpha, majorityVote, type Rating } from '../../src/main/ml/stats/agreement.ts';

/** 300 items, 4 raters, 3 classes; kappas from scikit-learn and statsmodels (test/fixtures/agreement/make.py). */
const REF = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../fixtures/agreement/reference.json'), 'utf8')) as {
  classes: number;
  labels: number[][];
  cohen: Record<string, number>;
  fleiss: number;
};

describe('agreement statistics', () => {
  it("match scikit-learn's Cohen's kappa for every pair and statsmodels' Fleiss' kappa", () => {
    for (const [pair, expected] of Object.entries(REF.cohen)) {
      const [a, b] = pair.split('-').map(Number) as [number, number];
      const k = cohenKappa(
        REF.labels.map((r) => r[a]!),
        REF.labels.map((r) => r[b]!),
        REF.classes,
      );
      expect(k.kappa).toBeCloseTo(expected, 12);
    }
    const ratings: Rating[] = REF.labels.flatMap((r, item) => r.map((label, rater) => ({ item, rater, label })));
    expect(fleissKappa(ratings, REF.classes)).toBeCloseTo(REF.fleiss, 12);
  });

  it("give Krippendorff's own nominal example alpha = 0.743 (4 observers, 12 units, missing values)", () => {
    // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the reliability data matrix of section C; values 1-5 as 0-4.
    const rows = [
      [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
      [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
      [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
      [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
    ];
    const ratings = rows.flatMap((r, rater) => r.flatMap((v, item) => (v === null ? [] : [{ item, rater, label: v - 1 }])));
    expect(krippendorffAlpha(ratings, 5)).toBeCloseTo(0.743, 3);
  });

  it('Dawid-Skene recovers five annotators’ planted accuracies within 0.05 on 2,000 images with 3 labels each, and beats majority vote', () => {
    const rand = rngFrom(11);
    const K = 4;
    const accuracies = [0.6, 0.7, 0.8, 0.9, 0.95];
    const truth = Array.from({ length: 2000 }, () => Math.floor(rand() * K));
    const ratings: Rating[] = [];
    truth.forEach((t, item) => {
      // Three of the five annotators label each image.
      const who = [0, 1, 2, 3, 4].sort(() => rand() - 0.5).slice(0, 3);
      for (const rater of who) {
        const right = rand() < accuracies[rater]!;
        const wrong = (t + 1 + Math.floor(rand() * (K - 1))) % K;
        ratings.push({ item, rater, label: right ? t : wrong });
      }
    });
    const ds = dawidSkene(ratings, K);
    ds.raters.forEach((r, i) => expect(Math.abs(ds.accuracy[i]! - accuracies[r]!)).toBeLessThan(0.05));
    const dsLabels = ds.items.map((_, i) => {
      let best = 0;
      for (let k = 1; k < K; k++) if (ds.posterior[i * K + k]! > ds.posterior[i * K + best]!) best = k;
      return best;
    });
    const mv = majorityVote(ratings, K, ds.items);
    const right = (labels: ArrayLike<number>) => ds.items.filter((item, i) => labels[i] === truth[item]).length / ds.items.length;
    process.stdout.write(
      `Dawid-Skene: accuracies ${ds.accuracy.map((a) => a.toFixed(3)).join(', ')}; consensus right ${right(dsLabels).toFixed(3)} vs majority ${right(mv).toFixed(3)}\n`,
    );
    expect(right(dsLabels)).toBeGreaterThan(right(mv));
  });

  it('agree perfectly when raters do, and at chance when they label at random', () => {
    const same = cohenKappa([0, 1, 2, 1], [0, 1, 2, 1], 3);
    expect(same).toEqual({ agreement: 1, kappa: 1, n: 4 });
    const rand = rngFrom(5);
    const a = Array.from({ length: 5000 }, () => Math.floor(rand() * 3));
    const b = Array.from({ length: 5000 }, () => Math.floor(rand() * 3));
    expect(Math.abs(cohenKappa(a, b, 3).kappa)).toBeLessThan(0.03);
  });
});
