import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitEncoder } from '../../src/main/ml/fusion/tabular.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { bootstrapModes, decideAll, externalModes } from '../../src/main/validation/externalMetrics.ts';
import { mapExternal, type RunSide } from '../../src/main/validation/mapping.ts';
import { fieldShifts, prevalenceShift } from '../../src/main/validation/shift.ts';
import { parseValueMap } from '../../src/main/cli/validateCommands.ts';

/** Probabilities and labels with scikit-learn's roc_auc_score (test/fixtures/validation/make.py). */
const REF = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../fixtures/validation/reference.json'), 'utf8')) as {
  binary: { labels: number[]; p: number[]; groups: number[]; auc: number };
  multiclass: { labels: number[]; probs: number[][]; auc: number };
};

const same = (probs: Float64Array) => ({ image: probs, metadata: probs, fused: probs });

describe('external figures', () => {
  it('give scikit-learn’s ROC AUC on the same probabilities, binary with ties and 3-class macro one-vs-rest', () => {
    const b = REF.binary;
    const probs = Float64Array.from(b.p.flatMap((p) => [1 - p, p]));
    const labels = Int32Array.from(b.labels);
    const set = {
      labels,
      classes: 2,
      probs: same(probs),
      decided: decideAll(same(probs), labels, 2, { image: 0.4, metadata: 0.4, fused: 0.4 }),
      groups: b.groups.map(String),
    };
    const modes = externalModes(set, bootstrapModes(set, 1, 200), { image: 0.4, metadata: 0.4, fused: 0.4 });
    expect(modes.fused.auc.value).toBeCloseTo(b.auc, 12);
    expect(modes.fused.auc.ci[0]).toBeLessThan(b.auc);
    expect(modes.fused.auc.ci[1]).toBeGreaterThan(b.auc);
    expect(modes.fused.operating!.threshold).toBe(0.4);
    const m = REF.multiclass;
    const p3 = Float64Array.from(m.probs.flat());
    const l3 = Int32Array.from(m.labels);
    const set3 = { labels: l3, classes: 3, probs: same(p3), decided: decideAll(same(p3), l3, 3, {}), groups: m.labels.map((_, i) => String(i)) };
    expect(externalModes(set3, bootstrapModes(set3, 1, 50), {}).image.auc.value).toBeCloseTo(m.auc, 12);
  });
});

const encoder = fitEncoder(
  [
    { name: 'age', type: 'number' },
    { name: 'region', type: 'category' },
  ],
  [
    [40, 'FACE'],
    [60, 'BACK'],
    [null, 'ARM'],
  ],
);
const binaryRun: RunSide = {
  classes: ['not BCC/MEL', 'BCC/MEL'],
  positive: ['BCC', 'MEL'],
  labelClasses: ['BCC', 'MEL', 'NEV', 'SEK'],
  fields: [
    { name: 'age', type: 'number' },
    { name: 'region', type: 'category' },
  ],
  encoder,
};
const ext = (labels: string[], regions: string[]) => ({
  labels,
  fields: [
    { name: 'age_approx', type: 'number' },
    { name: 'region', type: 'category' },
  ],
  meta: labels.map((_, i) => [30 + i, regions[i] ?? null]),
});

describe('class and field maps', () => {
  it('name an external class the run does not know instead of guessing, and take --positive or --map-class for it', () => {
    const e = ext(['MEL', 'nevus', 'nevus', 'SCC'], ['FACE', 'ARM', 'BACK', 'FACE']);
    expect(() => mapExternal(binaryRun, e, {})).toThrow(/External classes the run does not know: "nevus" \(2\), "SCC" \(1\)/);
    const m = mapExternal(binaryRun, e, { classMap: { nevus: 'NEV', SCC: '' } });
    expect(Array.from(m.truth)).toEqual([1, 0, 0]);
    expect(m.classMap).toContainEqual({ external: 'SCC', run: null, count: 1 });
    expect(Array.from(mapExternal(binaryRun, e, { positive: ['MEL', 'SCC'] }).truth)).toEqual([1, 0, 0, 1]);
    expect(() => mapExternal(binaryRun, e, { positive: ['melanoma'] })).toThrow(/--positive names "melanoma"/);
  });

  it('name a category value never seen in training with its count, and read it through --map-value', () => {
    const e = ext(['MEL', 'NEV', 'NEV'], ['SCALP', 'SCALP', 'FACE']);
    expect(() => mapExternal(binaryRun, e, {})).toThrow(/field "region": values never seen in training: "SCALP" \(2\) \(training had ARM, BACK, FACE\)/);
    const m = mapExternal(binaryRun, e, { valueMap: { region: { SCALP: 'FACE' } }, fieldMap: { age_approx: 'age' } });
    expect(m.meta).toEqual([
      [30, 'FACE'],
      [31, 'FACE'],
      [32, 'FACE'],
    ]);
    expect(m.from).toEqual(['age_approx', 'region']);
    // Without the field map the external set has no "age": every value is missing, never invented.
    expect(mapExternal(binaryRun, e, { valueMap: { region: { SCALP: '' } } }).meta.map((r) => r[0])).toEqual([null, null, null]);
    expect(() => mapExternal(binaryRun, e, { fieldMap: { sex: 'gender' } })).toThrow(/no field "sex"/);
  });

  it('take --positive for a run on a two-class label set too, and refuse a set without one of the two classes before any work', () => {
    // A run on a two-class label set: --positive names the external classes that are its second class (here MEL).
    const plainBinary: RunSide = { ...binaryRun, classes: ['OTHER', 'MEL'], positive: null, labelClasses: ['MEL', 'OTHER'] };
    const e = ext(['melanoma', 'nevus', 'nevus'], ['FACE', 'ARM', 'BACK']);
    expect(() => mapExternal(plainBinary, e, {})).toThrow(/External classes the run does not know/);
    expect(Array.from(mapExternal(plainBinary, e, { positive: ['melanoma'] }).truth)).toEqual([1, 0, 0]);
    expect(() => mapExternal(plainBinary, ext(['nevus', 'nevus'], ['FACE', 'ARM']), { positive: ['melanoma'] })).toThrow(/--positive names "melanoma"/);
    expect(() => mapExternal(plainBinary, ext(['nevus', 'sek'], ['FACE', 'ARM']), { positive: ['sek'], classMap: { sek: '' } })).toThrow(
      /^The external set has no image the run would count as "MEL" \("nevus" \(1\), "sek" \(1\)\): AUC and the rates need both classes/,
    );
    const three: RunSide = { ...binaryRun, classes: ['MEL', 'NEV', 'BCC'], positive: null };
    expect(() => mapExternal(three, e, { positive: ['melanoma'] })).toThrow(/--positive is for binary runs; this run has 3 classes/);
  });

  it('read a field chosen as absent as missing even where the set has one of that name, and name a value map the set cannot use', () => {
    const e = ext(['MEL', 'NEV', 'NEV'], ['FACE', 'ARM', 'BACK']);
    expect(mapExternal(binaryRun, e, {}).meta.map((r) => r[1])).toEqual(['FACE', 'ARM', 'BACK']);
    const m = mapExternal(binaryRun, e, { absent: ['region'] });
    expect(m.meta.map((r) => r[1])).toEqual([null, null, null]);
    expect(m.from).toEqual([null, null]);
    expect(() => mapExternal(binaryRun, e, { absent: ['sex'] })).toThrow(/--absent-field sex: the run uses no field "sex"/);
    expect(() => mapExternal(binaryRun, e, { valueMap: { region: { SCALP: 'FACE' } } })).toThrow(
      /--map-value region: no external image has "SCALP" there \(its values: "FACE", "ARM", "BACK"\)/,
    );
  });

  it('read --map-value with a field prefix that carries over to the pairs after it', () => {
    expect(parseValueMap('gender:female=FEMALE,male=MALE,region:scalp=')).toEqual({ gender: { female: 'FEMALE', male: 'MALE' }, region: { scalp: '' } });
    expect(() => parseValueMap('female=FEMALE')).toThrow(/FIELD:VALUE=KNOWN/);
  });
});

describe('shift', () => {
  const train = Array.from({ length: 200 }, (_, i) => [40 + (i % 30), ['FACE', 'BACK'][i % 2]!] as (number | string | null)[]);
  it('flags ages 20 years older as a major shift (SMD > 2) and leaves an identical copy at none', () => {
    const older = train.map((r) => [(r[0] as number) + 20, r[1]!]);
    const [age, region] = fieldShifts(binaryRun.fields, ['age', 'region'], train, older);
    expect(age!.numbers!.smd).toBeGreaterThan(2);
    expect(age!.level).toBe('major');
    expect(region!.level).toBe('none');
    const [same0] = fieldShifts(binaryRun.fields, ['age', 'region'], train, train);
    expect(same0!.numbers!.smd).toBe(0);
    expect(same0!.psi).toBeCloseTo(0, 12);
    expect(same0!.level).toBe('none');
  });

  it('rarely flags two samples of one distribution (150 against 60, under 10% of seeds) and flags ages 20 years older, with the SMD interval', () => {
    const regions = ['FACE', 'BACK', 'ARM', 'LEG'];
    const sample = (rand: () => number, n: number, plus = 0) =>
      Array.from({ length: n }, () => {
        const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
        return [55 + 15 * g + plus, regions[Math.floor(rand() * regions.length)]!] as (number | string | null)[];
      });
    let flagged = 0;
    const seeds = 40;
    for (let s = 1; s <= seeds; s++) {
      const rand = rngFrom(s);
      const shifts = fieldShifts(binaryRun.fields, ['age', 'region'], sample(rand, 150), sample(rand, 60), s);
      if (shifts.some((f) => f.level !== 'none')) flagged++;
      const age = shifts[0]!.numbers!;
      expect(age.smdCI![0]).toBeLessThanOrEqual(age.smd);
      expect(age.smdCI![1]).toBeGreaterThanOrEqual(age.smd);
    }
    process.stdout.write(`same distribution, a field flagged in ${flagged} of ${seeds} seeds\n`);
    expect(flagged / seeds).toBeLessThan(0.1);
    const rand = rngFrom(99);
    const [age] = fieldShifts(binaryRun.fields, ['age', 'region'], sample(rand, 150), sample(rand, 60, 20), 1);
    expect(age!.level).toBe('major');
    expect(age!.numbers!.smdCI![0]).toBeGreaterThan(0.25);
    expect(age!.psiP).toBeLessThan(0.01);
  });

  it('reads category shares side by side and a field absent externally as a major missingness shift', () => {
    const faces = train.map((r) => [r[0]!, 'FACE']);
    const region = fieldShifts(binaryRun.fields, ['age', 'region'], train, faces)[1]!;
    expect(region.shares).toEqual([
      { value: 'BACK', train: 0.5, external: 0 },
      { value: 'FACE', train: 0.5, external: 1 },
    ]);
    expect(region.level).toBe('major');
    const absent = fieldShifts(
      binaryRun.fields,
      [null, 'region'],
      train,
      train.map((r) => [null, r[1]!]),
    )[0]!;
    expect(absent).toMatchObject({ from: null, numbers: null, missing: { train: 0, external: 1 }, level: 'major' });
  });

  it('gives the PPV and NPV Bayes gives for the run’s sensitivity and specificity at each prevalence', () => {
    // 10 positives (8 found), 30 negatives (27 cleared): sensitivity 0.8, specificity 0.9, prevalence 0.25.
    const labels = Int32Array.from([...Array(10).fill(1), ...Array(30).fill(0)]);
    const decided = Int32Array.from([...Array(8).fill(1), 0, 0, ...Array(27).fill(0), 1, 1, 1]);
    const p = prevalenceShift({ labels, decided: { image: decided, metadata: decided, fused: decided } }, Int32Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(p.train).toBe(0.25);
    expect(p.external).toBe(0.1);
    expect(p.modes.fused.internal.ppv).toBeCloseTo(8 / 11, 12);
    expect(p.modes.fused.internalAtExternalPrevalence.ppv).toBeCloseTo((0.8 * 0.1) / (0.8 * 0.1 + 0.1 * 0.9), 12);
  });
});

describe('where validation data lies, for annotators and model cards', () => {
  it('cuts every absolute path to its last part and leaves other words alone', async () => {
    const { withoutPaths } = await import('../../src/shared/redact.ts');
    expect(withoutPaths('folder /srv/clinic-b/images with /srv/clinic-b/meta.csv')).toBe('folder images with meta.csv');
    expect(withoutPaths('project C:\\data\\clinicB')).toBe('project clinicB');
    expect(withoutPaths('no paths here: 3/4 of it')).toBe('no paths here: 3/4 of it');
  });
});
