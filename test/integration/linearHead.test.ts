import { beforeAll, describe, expect, it } from 'vitest';
import { fitHead, linearByNewton, L2_IMAGE, L2_META, predictHead, type HeadData, type HeadModel } from '../../src/main/ml/fusion/heads.ts';
import { NEWTON_MAX_UNKNOWNS } from '../../src/main/ml/fusion/linearNewton.ts';
import { choleskySolve } from '../../src/main/ml/stats/linalg.ts';
import { initBackend } from '../../src/main/ml/tfjs/backend.ts';
import { rng } from '../fixtures/generate.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Rows whose class depends on a few image and metadata columns, with noise; one metadata column all zero, one a copy. */
function problem(n: number, imageDim: number, metaDim: number, classes: number, seed: number): HeadData {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const image = Float32Array.from({ length: n * imageDim }, normal);
  const meta = Float32Array.from({ length: n * metaDim }, normal);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    meta[i * metaDim + metaDim - 1] = 0;
    meta[i * metaDim + metaDim - 2] = meta[i * metaDim]!;
    const score = image[i * imageDim]! + 0.8 * meta[i * metaDim]! + 0.7 * normal();
    labels[i] = Math.min(classes - 1, Math.max(0, Math.floor((score + 1.5) * (classes / 3))));
  }
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  const weights = Float32Array.from(labels, (l) => n / (classes * counts[l]!));
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  return { n, image, imageDim, meta, metaDim, labels, classes, weights, groups: ids, shas: ids };
}

/** The head's objective and its gradient in float64: weighted mean cross-entropy plus the L2 penalties. */
function objective(m: HeadModel, d: HeadData, idx: number[]): { f: number; gradMax: number } {
  const C = d.classes;
  const wI = m.params.wImage!.values;
  const wM = m.params.wMeta!.values;
  const b = m.params.bias!.values;
  const gI = new Float64Array(wI.length);
  const gM = new Float64Array(wM.length);
  const gB = new Float64Array(C);
  const nonZero = idx.filter((i) => d.weights[i] !== 0).length;
  let f = 0;
  for (const i of idx) {
    const z = b.map((v, c) => {
      let s = v;
      for (let j = 0; j < d.imageDim; j++) s += d.image![i * d.imageDim + j]! * wI[j * C + c]!;
      for (let j = 0; j < d.metaDim; j++) s += d.meta![i * d.metaDim + j]! * wM[j * C + c]!;
      return s;
    });
    const top = Math.max(...z);
    const sum = z.reduce((a, v) => a + Math.exp(v - top), 0);
    const s = d.weights[i]! / nonZero;
    f -= s * (z[d.labels[i]!]! - top - Math.log(sum));
    for (let c = 0; c < C; c++) {
      const r = s * (Math.exp(z[c]! - top) / sum - (c === d.labels[i] ? 1 : 0));
      gB[c]! += r;
      for (let j = 0; j < d.imageDim; j++) gI[j * C + c]! += r * d.image![i * d.imageDim + j]!;
      for (let j = 0; j < d.metaDim; j++) gM[j * C + c]! += r * d.meta![i * d.metaDim + j]!;
    }
  }
  wI.forEach((w, k) => ((f += L2_IMAGE * w * w), (gI[k]! += 2 * L2_IMAGE * w)));
  wM.forEach((w, k) => ((f += L2_META * w * w), (gM[k]! += 2 * L2_META * w)));
  const gradMax = Math.max(...[...gI, ...gM, ...gB].map(Math.abs));
  return { f, gradMax };
}

describe('the linear head', () => {
  it.each([2, 4])('reaches the optimum with %i classes: gradient zero, no nearby point lower', (classes) => {
    const d = problem(300, 24, 6, classes, classes);
    const idx = Array.from({ length: 260 }, (_, i) => i);
    const m = fitHead('linear', d, idx, 1);
    const { f, gradMax } = objective(m, d, idx);
    expect(gradMax).toBeLessThan(2e-5);
    const r = rng(9);
    for (let t = 0; t < 5; t++) {
      const moved: HeadModel = structuredClone(m);
      for (const v of Object.values(moved.params)) v.values = v.values.map((x) => x + (r() - 0.5) * 0.02);
      expect(objective(moved, d, idx).f).toBeGreaterThan(f);
    }
    // Probabilities of held-out rows sum to one.
    const p = predictHead(m, d, [270, 271]);
    expect(p[0]! + p[1]! + (classes > 2 ? p.slice(2, classes).reduce((a, v) => a + v, 0) : 0)).toBeCloseTo(1, 5);
  });

  it('agrees with the first-order path that problems past its size take', () => {
    // 4 classes × (60 + 4 + 1) columns is past Newton's limit: fitHead takes Adam; the same rows solved by Newton.
    const d = problem(240, 60, 4, 4, 5);
    expect(4 * (60 + 4 + 1)).toBeGreaterThan(NEWTON_MAX_UNKNOWNS);
    const idx = Array.from({ length: 240 }, (_, i) => i);
    const adam = fitHead('linear', d, idx, 1);
    const newton = linearByNewton(d, idx);
    const [a, n] = [objective(adam, d, idx), objective(newton, d, idx)];
    expect(n.gradMax).toBeLessThan(2e-5);
    expect(n.f).toBeLessThanOrEqual(a.f + 1e-7);
    expect(a.f - n.f).toBeLessThan(1e-3);
    const [pa, pn] = [predictHead(adam, d, idx), predictHead(newton, d, idx)];
    expect(Math.max(...pa.map((v, k) => Math.abs(v - pn[k]!)))).toBeLessThan(0.05);
  });
});

describe('choleskySolve', () => {
  it('solves a positive definite system and refuses a singular one', () => {
    const a = Float64Array.from([4, 2, 0.6, 2, 5, 1, 0.6, 1, 3]);
    const x = choleskySolve(a, Float64Array.from([1, 2, 3]), 3)!;
    const back = [0, 1, 2].map((i) => a[i * 3]! * x[0]! + a[i * 3 + 1]! * x[1]! + a[i * 3 + 2]! * x[2]!);
    back.forEach((v, i) => expect(v).toBeCloseTo(i + 1, 12));
    expect(choleskySolve(Float64Array.from([1, 2, 2, 4]), Float64Array.from([1, 1]), 2)).toBeNull();
  });
});
