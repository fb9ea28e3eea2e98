import { describe, expect, it } from 'vitest';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { fitPlatt, groupSlice, recalibrate } from '../../src/main/validation/recalibrate.ts';
import type { ScoredSet } from '../../src/main/validation/externalMetrics.ts';
import { MODES } from '../../src/shared/results.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

/** n images of n/2 patients, scores uniform in (0.01, 0.99) and the truth drawn with P = σ(slope · logit p + shift). */
function planted(n: number, slope: number, shift: number, seed: number): ScoredSet {
  const rand = rngFrom(seed);
  const probs = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = 0.01 + 0.98 * rand();
    probs.set([1 - p, p], 2 * i);
    labels[i] = rand() < sigmoid(slope * logit(p) + shift) ? 1 : 0;
  }
  const all = Object.fromEntries(MODES.map((m) => [m, probs])) as ScoredSet['probs'];
  return {
    labels,
    classes: 2,
    probs: all,
    decided: Object.fromEntries(MODES.map((m) => [m, labels])) as ScoredSet['decided'],
    groups: Array.from(labels, (_, i) => `P${i >> 1}`),
  };
}

describe('Platt recalibration on a slice of the external set', () => {
  it('takes whole patients, at least the fraction asked, never a patient on both sides', () => {
    const groups = Array.from({ length: 101 }, (_, i) => `P${Math.floor(i / 3)}`);
    const slice = groupSlice(groups, 0.3, 4);
    expect(slice.filter(Boolean).length).toBeGreaterThanOrEqual(0.3 * 101);
    expect(slice.filter(Boolean).length).toBeLessThan(0.3 * 101 + 3);
    for (let i = 0; i < groups.length; i++) for (let j = 0; j < groups.length; j++) if (groups[i] === groups[j]) expect(slice[i]).toBe(slice[j]);
  });

  it('recovers a planted slope and shift', () => {
    const s = planted(20000, 0.5, 1, 3);
    const fit = fitPlatt(
      Array.from(s.labels, (_, i) => s.probs.fused[2 * i + 1]!),
      s.labels,
    );
    expect(fit.slope).toBeCloseTo(0.5, 1);
    expect(fit.intercept).toBeCloseTo(1, 1);
  });

  it('lowers the held-out calibration error of a planted miscalibration and leaves its AUC as it was', () => {
    const r = recalibrate(planted(2000, 0.5, 1, 5), 0.3, 9);
    expect(r.fit.images + r.heldOut.images).toBe(2000);
    const f = r.modes.fused;
    expect(f.after.auc).toBe(f.before.auc);
    expect(f.after.calibrationError).toBeLessThan(f.before.calibrationError / 2);
    expect(f.after.brier).toBeLessThan(f.before.brier);
  });

  it('stays finite and increasing on a slice its scores separate perfectly', () => {
    const fit = fitPlatt([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1]);
    expect(Number.isFinite(fit.slope) && Number.isFinite(fit.intercept)).toBe(true);
    expect(fit.slope).toBeGreaterThan(0);
  });

  it('refuses a multiclass run and a slice without both classes, saying why', () => {
    const three = { ...planted(10, 1, 0, 1), classes: 3 };
    expect(() => recalibrate(three, 0.3, 1)).toThrow(/binary runs; this run has 3 classes/);
    const one = planted(40, 1, 0, 1);
    one.labels.fill(1);
    expect(() => recalibrate(one, 0.3, 1)).toThrow(/lacks a class/);
  });
});
