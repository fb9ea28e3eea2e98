import { describe, expect, it } from 'vitest';
import { occlusionBlocks } from '../../src/shared/explain.ts';
import type { FinalModels } from '../../src/main/ml/fusion/crossval.ts';
import type { HeadModel } from '../../src/main/ml/fusion/heads.ts';
import { permutationImportance } from '../../src/main/ml/fusion/importance.ts';
import { flagImportance } from '../../src/main/ml/fusion/train.ts';
import { fitEncoder, referenceRow } from '../../src/main/ml/fusion/tabular.ts';
import { explainCase } from '../../src/main/ml/explain/contributions.ts';
import { occludedCopies, patchRect, toInput } from '../../src/main/ml/explain/occlusion.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import type { FieldValue } from '../../src/shared/types.ts';

const rand = rngFrom(3);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const tensor = (rows: number, cols: number) => ({ shape: cols ? [rows, cols] : [rows], values: Array.from({ length: rows * (cols || 1) }, gauss) });

const FIELDS = [
  { name: 'age', type: 'number' as const },
  { name: 'site', type: 'category' as const },
  { name: 'smoker', type: 'boolean' as const },
];
const ROWS: FieldValue[][] = Array.from({ length: 40 }, (_, i) => [i % 9 === 0 ? null : 30 + i, ['ARM', 'FACE', 'BACK', 'FACE'][i % 4]!, i % 3 === 0]);

/** Final models with random weights: a 4-component PCA of 6-d features, the encoder above, heads of the given kind. */
function models(kind: 'linear' | 'mlp' | 'gating', classes = 2): FinalModels {
  const encoder = fitEncoder(FIELDS, ROWS);
  const k = 4;
  const d = 6;
  const head = (image: boolean, meta: boolean, kk: HeadModel['kind'] = kind): HeadModel => {
    const params: HeadModel['params'] = { bias: tensor(classes, 0) };
    if (kk === 'mlp') {
      if (image) params.wImage = tensor(k, 5);
      if (meta) params.wMeta = tensor(encoder.width, 5);
      params.bHidden = tensor(5, 0);
      params.wOut = tensor(5, classes);
    } else if (kk === 'gating') {
      Object.assign(params, {
        wGate: tensor(encoder.width, k),
        bGate: tensor(k, 0),
        wShift: tensor(encoder.width, k),
        wImage: tensor(k, classes),
        wMeta: tensor(encoder.width, classes),
      });
    } else {
      if (image) params.wImage = tensor(k, classes);
      if (meta) params.wMeta = tensor(encoder.width, classes);
    }
    return { kind: kk, classes, imageDim: k, metaDim: encoder.width, params };
  };
  return {
    pca: {
      dim: d,
      k,
      mean: Float64Array.from({ length: d }, gauss),
      components: Float64Array.from({ length: k * d }, gauss),
      variances: [2, 1.5, 1, 0.5],
    },
    encoder,
    image: head(true, false, 'linear'),
    metadata: head(false, true, 'linear'),
    fusion: { kind: kind === 'linear' ? 'concat' : kind },
    fused: head(true, true),
    thresholds: { image: 0.5, metadata: 0.5, fused: 0.5 },
  };
}

describe('contributions', () => {
  it('of a linear fused head on two classes sum to the logit minus the base logit (1e-6), and say exact', () => {
    const m = models('linear');
    for (let i = 0; i < 20; i++) {
      const vector = Array.from({ length: 6 }, gauss);
      const e = explainCase(m, 'fused', vector, ROWS[i]!, 1);
      expect(e.method).toBe('exact');
      const sum = e.contributions.reduce((s, c) => s + c.contribution, 0);
      expect(Math.abs(sum - (e.logit - e.baseLogit))).toBeLessThan(1e-6);
      expect(Math.abs(e.interaction)).toBeLessThan(1e-6);
      expect(e.contributions.map((c) => c.field)).toEqual(['age', 'site', 'smoker', 'image']);
      expect(e.probability).toBeCloseTo(1 / (1 + Math.exp(-e.logit)), 12);
    }
  });

  it('of MLP and gating heads use replacement and carry the rest as interaction', () => {
    for (const kind of ['mlp', 'gating'] as const) {
      const e = explainCase(models(kind), 'fused', Array.from({ length: 6 }, gauss), ROWS[5]!, 0);
      expect(e.method).toBe('replacement');
      expect(e.head).toMatch(kind);
      const sum = e.contributions.reduce((s, c) => s + c.contribution, 0) + e.interaction;
      expect(sum).toBeCloseTo(e.logit - e.baseLogit, 10);
    }
  });

  it('replace a field by the average training patient: a number by its mean, a category by its shares', () => {
    const enc = fitEncoder(FIELDS, ROWS);
    const ages = ROWS.map((r) => r[0]).filter((x): x is number => x !== null);
    expect(referenceRow(enc)).toEqual([ages.reduce((a, b) => a + b, 0) / ages.length, 'FACE', false]);
    const e = explainCase(models('linear'), 'metadata', null, ROWS[1]!, 1);
    const site = e.contributions.find((c) => c.field === 'site')!;
    expect(site).toMatchObject({ value: 'FACE', reference: 'FACE 50%, ARM 25%, BACK 25%' });
    // FACE, the most common site, still moves the case away from the mix of sites.
    expect(Math.abs(site.contribution)).toBeGreaterThan(0);
    expect(e.contributions.find((c) => c.field === 'age')!.reference).toBeCloseTo(ages.reduce((a, b) => a + b, 0) / ages.length, 9);
  });
});

describe('a baseline the user picks', () => {
  it('measures a field against the chosen value (a case at that value gets 0) and refuses a field the model lacks', () => {
    const m = models('linear');
    const arm = ROWS.findIndex((r) => r[1] === 'ARM');
    const e = explainCase(m, 'fused', Array.from({ length: 6 }, gauss), ROWS[arm]!, 1, new Map([['site', 'ARM']]));
    expect(e.contributions.find((c) => c.field === 'site')).toMatchObject({ reference: 'ARM', contribution: 0 });
    const sum = e.contributions.reduce((s, c) => s + c.contribution, 0);
    expect(Math.abs(sum - (e.logit - e.baseLogit))).toBeLessThan(1e-6);
    expect(() => explainCase(m, 'fused', null, ROWS[0]!, 1, new Map([['weight', 3]]))).toThrow(/no field "weight"; its fields: age, site, smoker/);
  });
});

describe('occlusion geometry', () => {
  it('covers the image with grid × grid half-overlapping patches', () => {
    expect(patchRect(8, 0, 0)).toEqual({ x0: 0, y0: 0, x1: 2 / 9, y1: 2 / 9 });
    expect(patchRect(8, 7, 7).x1).toBeCloseTo(1, 12);
  });

  it('maps fractions of the photo into a centre-cropped input as decodeForBackbone crops it', () => {
    // 400 × 200 photo, short side to 256, middle 224: the input's left edge is at (512 − 224) / 2 of the 512 scaled width.
    const map = toInput({ inputSize: 224, scale: [1, 1, 1], offset: [0, 0, 0], resize: 'center-crop', crop: 0.875 }, 400, 200);
    expect(map(0.5, 0.5)).toEqual([112, 112]);
    expect(map(144 / 512, 16 / 256)[0]).toBeCloseTo(0, 9);
  });

  it('fills exactly the patch with grey in each copy and keeps the original first', () => {
    const s = 9;
    const pixels = new Uint8Array(s * s * 3).fill(10);
    const copies = occludedCopies(pixels, { inputSize: s, scale: [1, 1, 1], offset: [0, 0, 0], resize: 'squash' }, 90, 90, 2);
    expect(copies.length).toBe(5 * s * s * 3);
    expect(copies.subarray(0, s * s * 3).every((v) => v === 10)).toBe(true);
    // Grid 2: patches 2/3 wide; copy 1 hides x, y in [0, 6).
    const px = (copy: number, x: number, y: number) => copies[copy * s * s * 3 + (y * s + x) * 3]!;
    expect([px(1, 0, 0), px(1, 5, 5), px(1, 6, 0), px(1, 0, 6)]).toEqual([128, 128, 10, 10]);
    expect([px(4, 3, 3), px(4, 8, 8), px(4, 2, 8)]).toEqual([128, 128, 10]);
  });

  it('spreads the cells over (grid + 1)² blocks, each the mean of the patches covering it', () => {
    const { blocks, max } = occlusionBlocks({
      grid: 2,
      cells: [
        [1, 0],
        [0, 0],
      ],
    });
    expect(blocks).toEqual([
      [1, 0.5, 0],
      [0.5, 0.25, 0],
      [0, 0, 0],
    ]);
    expect(max).toBe(1);
  });
});

describe('permutation importance', () => {
  it('finds the block the predictions follow, and a block they ignore has an interval around 0', () => {
    const n = 300;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const groups = Array.from({ length: n }, (_, i) => `P${Math.floor(i / 2)}`);
    const r2 = rngFrom(9);
    const probsOf = (f: (i: number) => number) => {
      const p = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        p[i * 2 + 1] = f(i);
        p[i * 2] = 1 - f(i);
      }
      return p;
    };
    const signal = Array.from({ length: n }, (_, i) => labels[i]! + 0.8 * r2());
    const oof = probsOf((i) => signal[i]! / 2);
    const shuffled = [...signal].sort(() => r2() - 0.5);
    const res = permutationImportance(oof, { strong: [probsOf((i) => shuffled[i]! / 2)], noise: [oof.slice()] }, labels, 2, groups, 1, 100);
    expect(res.rows[0]!.block).toBe('strong');
    expect(res.rows[0]!.drop).toBeGreaterThan(0.3);
    expect(res.rows[0]!.ci[0]).toBeGreaterThan(0.2);
    const noise = res.rows.find((r) => r.block === 'noise')!;
    expect(noise.ci[0]).toBeLessThanOrEqual(0);
    expect(noise.ci[1]).toBeGreaterThanOrEqual(0);
  });
});

describe('the leakage flag on importance', () => {
  const raw = (drop: number) => ({
    auc: 0.8,
    resamples: 200,
    repeats: 3,
    rows: [
      { block: 'fitspatrick', drop, ci: [drop - 0.05, drop + 0.05] as [number, number] },
      { block: 'age', drop: 0.02, ci: [0, 0.04] as [number, number] },
    ],
  });
  const warned = [{ field: 'fitspatrick', kind: 'missingness' as const, message: 'gap follows the label', strength: 0.4 }];
  it('warns when a field the leakage check flagged carries most of the skill, and names it', () => {
    const imp = flagImportance(raw(0.2), warned);
    expect(imp.rows[0]!.leakage).toBe(true);
    expect(imp.warning).toMatch(/"fitspatrick" carries most of the fused model's skill/);
  });
  it('stays quiet when the flagged field carries less than half of it', () => {
    expect(flagImportance(raw(0.1), warned).warning).toBeNull();
  });
});
