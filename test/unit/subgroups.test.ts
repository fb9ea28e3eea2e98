import { describe, expect, it } from 'vitest';
import { formatP, MODES, type Mode } from '../../src/shared/results.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { groupAucs, scoreOrders } from '../../src/main/ml/fusion/groupAuc.ts';
import { auc, subset } from '../../src/main/ml/fusion/metrics.ts';
import { subgroupTable, type SubgroupInput } from '../../src/main/ml/fusion/subgroups.ts';

/** Standard normal from two uniforms (Box-Muller). */
function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/**
 * A binary run's out-of-fold predictions: patients of 1-2 images, a skin-type field with three groups and an age
 * field; the score separates the classes with noise `noise[group]` (a larger noise: a weaker image signal there).
 */
function syntheticRun(seed: number, noise: Record<string, number>, n = 600): SubgroupInput {
  const rand = rngFrom(seed);
  const types = Object.keys(noise);
  const rows: (string | number | null)[][] = [];
  const labels = new Int32Array(n);
  const probs = new Float64Array(n * 2);
  const groups: string[] = [];
  let patient = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || rand() < 0.6) patient++;
    const type = types[Math.floor(rand() * types.length)]!;
    const label = rand() < 0.45 ? 1 : 0;
    const score = 1 / (1 + Math.exp(-(2 * label - 1 + noise[type]! * gauss(rand))));
    labels[i] = label;
    probs[i * 2] = 1 - score;
    probs[i * 2 + 1] = score;
    rows.push([20 + Math.floor(rand() * 70), type]);
    groups.push(`P${patient}`);
  }
  const decided = Int32Array.from(labels, (_, i) => (probs[i * 2 + 1]! >= 0.5 ? 1 : 0));
  const all = (x: Float64Array) => ({ image: x, metadata: x, fused: x }) as Record<Mode, Float64Array>;
  return {
    fields: [
      { name: 'age', type: 'number' },
      { name: 'fitzpatrick', type: 'ordinal' },
    ],
    rows,
    labels,
    classes: 2,
    probs: all(probs),
    decided: { image: decided, metadata: decided, fused: decided },
    groups,
    fieldsUsed: ['age'],
    seed,
  };
}

/** AUC by pairwise comparison (Mann-Whitney), written out plainly. */
function plainAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((s, i) =>
    scores.forEach((t, j) => {
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        wins += s > t ? 1 : s === t ? 0.5 : 0;
      }
    }),
  );
  return wins / pairs;
}

describe('AUC of many subgroups in one pass', () => {
  it.each([2, 4])('equals the AUC of each subgroup with its images repeated by weight (%i classes, ties included)', (classes) => {
    const rand = rngFrom(classes);
    const n = 300;
    // Scores rounded to one decimal: many ties.
    const probs = Float64Array.from({ length: n * classes }, () => Math.round(rand() * 10) / 10);
    const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * classes));
    const groupOf = Int32Array.from({ length: n }, () => Math.floor(rand() * 3));
    const weight = Int32Array.from({ length: n }, () => Math.floor(rand() * 3));
    const fast = groupAucs(scoreOrders(probs, classes, n), labels, groupOf, weight, 3, classes, 1);
    for (let g = 0; g < 3; g++) {
      const idx = Int32Array.from(Array.from({ length: n }, (_, i) => i).flatMap((i) => (groupOf[i] === g ? Array<number>(weight[i]!).fill(i) : [])));
      expect(fast[g]).toBeCloseTo(auc(subset({ probs, classes, labels }, idx)), 12);
    }
  });
});

describe('subgroup table', () => {
  it('finds a planted gap (weaker signal on one skin type), its interval excludes 0, and the summary names the group', () => {
    const t = subgroupTable(syntheticRun(1, { '2': 0.5, '3': 0.5, '5': 2.5 }));
    expect(t.rows[0]!.field).toBe('fitzpatrick');
    expect(t.notInModel).toEqual(['fitzpatrick']);
    const gap = t.gaps.find((g) => g.field === 'fitzpatrick' && g.mode === 'fused')!;
    expect(gap.worst).toBe('5');
    expect(gap.significant).toBe(true);
    expect(gap.gap.ci[0]).toBeGreaterThan(0);
    expect(t.summary).toMatch(
      /^Worst subgroup \(fused\): fitzpatrick = 5, AUC 0\.\d{3} against 0\.\d{3} for fitzpatrick = [23]; gap 0\.\d{3} \(95% CI 0\.\d{3} to 0\.\d{3}\): a gap chance alone would rarely give\.$/,
    );
    const five = t.rows.find((r) => r.field === 'fitzpatrick' && r.group === '5')!;
    for (const m of MODES) expect(five.modes[m].auc!.ci[0]).toBeLessThanOrEqual(five.modes[m].auc!.value);
    expect(five.positives).toBeGreaterThan(0);
    expect(five.modes.fused.sensitivity).toBeGreaterThan(0);
    expect(five.modes.fused.specificity).toBeGreaterThan(0);
  });

  it('with no planted effect, the gap interval (Bonferroni over the field’s pairs) covers 0 in at least 90 of 100 seeds', () => {
    let covered = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const run = syntheticRun(1000 + seed, { '2': 1, '3': 1, '5': 1 }, 300);
      // Skin type only: the age bands would only add time here.
      const t = subgroupTable({ ...run, fields: [run.fields[1]!], rows: run.rows.map((r) => [r[1]!]), resamples: 200 });
      const gap = t.gaps.find((g) => g.field === 'fitzpatrick' && g.mode === 'fused')!;
      if (!gap.significant) covered++;
    }
    process.stdout.write(`subgroups without a planted effect: the gap interval covered 0 in ${covered} of 100 seeds\n`);
    expect(covered).toBeGreaterThanOrEqual(90);
  });

  it('gives a subgroup AUC interval that agrees with a plain patient bootstrap', () => {
    const input = { ...syntheticRun(7, { '2': 1, '5': 1.5 }, 160), resamples: 2000 };
    const ours = subgroupTable(input).rows.find((r) => r.field === 'fitzpatrick' && r.group === '2')!.modes.fused.auc!;
    // Resample patients with replacement; keep the resampled images of skin type 2; AUC; percentiles.
    const rand = rngFrom(99);
    const patients = [...new Set(input.groups)];
    const imagesOf = new Map(patients.map((p) => [p, input.groups.flatMap((g, i) => (g === p ? [i] : []))]));
    const aucs: number[] = [];
    for (let b = 0; b < 2000; b++) {
      const idx = patients.flatMap(() => imagesOf.get(patients[Math.floor(rand() * patients.length)]!)!).filter((i) => input.rows[i]![1] === '2');
      const labels = idx.map((i) => input.labels[i]!);
      if (labels.filter((l) => l === 1).length < 5 || labels.filter((l) => l === 0).length < 5) continue;
      aucs.push(
        plainAuc(
          idx.map((i) => input.probs.fused[i * 2 + 1]!),
          labels,
        ),
      );
    }
    aucs.sort((a, b) => a - b);
    const plain = [aucs[Math.round(0.025 * (aucs.length - 1))]!, aucs[Math.round(0.975 * (aucs.length - 1))]!];
    const point = plainAuc(
      input.groups.flatMap((_, i) => (input.rows[i]![1] === '2' ? [input.probs.fused[i * 2 + 1]!] : [])),
      input.groups.flatMap((_, i) => (input.rows[i]![1] === '2' ? [input.labels[i]!] : [])),
    );
    expect(ours.value).toBeCloseTo(point, 10);
    expect(Math.abs(ours.ci[0] - plain[0]!)).toBeLessThan(0.03);
    expect(Math.abs(ours.ci[1] - plain[1]!)).toBeLessThan(0.03);
  });

  it('slices age into bands, keeps missing as a group, and marks small groups as too few', () => {
    const input = syntheticRun(3, { '2': 1, '3': 1 }, 300);
    input.rows.slice(0, 12).forEach((r) => (r[0] = null));
    input.rows.slice(12, 22).forEach((r) => (r[1] = '6'));
    const t = subgroupTable(input);
    expect(t.rows.filter((r) => r.field === 'age').map((r) => r.group)).toEqual(['<30', '30-49', '50-69', '70+', 'missing']);
    const six = t.rows.find((r) => r.field === 'fitzpatrick' && r.group === '6')!;
    expect(six).toMatchObject({ n: 10, tooFew: true });
    expect(six.modes.fused).toEqual({ auc: null, sensitivity: null, specificity: null, calibrationError: null });
    expect(t.rows.find((r) => r.field === 'age' && r.group === 'missing')).toMatchObject({ n: 12, tooFew: true });
  });

  it('prints p-values below 0.001 as such, never as 0.000', () => {
    expect(formatP(0)).toBe('< 0.001');
    expect(formatP(0.0004)).toBe('< 0.001');
    expect(formatP(0.001)).toBe('0.001');
    expect(formatP(0.0432)).toBe('0.043');
  });
});
