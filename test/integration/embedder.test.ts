import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';
import { backboneKey, rangePreprocessing } from '../../src/main/ml/input/spec.ts';
import { type BackboneSpec } from '../../src/shared/backbone.ts';
import { Embedder, normalise } from '../../src/main/ml/tfjs/embedder.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import { folderHandler } from '../../src/main/ml/tfjs/modelFiles.ts';
import { makeTinyGraphModel, makeTinyLayersModel } from '../fixtures/tinyModel.ts';
import { tempDir } from '../fixtures/generate.ts';

const tmp = tempDir();
const layersDir = path.join(tmp.dir, 'tiny-layers');
const graphDir = path.join(tmp.dir, 'tiny-graph');
const spec = (over: Partial<BackboneSpec> = {}): BackboneSpec => ({
  name: 'tiny',
  dir: layersDir,
  format: 'layers',
  featureLayer: null,
  preprocessing: rangePreprocessing(32, -1, 1),
  tta: false,
  ...over,
});
const pixels = (n: number, s = 32) => new Uint8Array(n * s * s * 3).map((_, i) => (i * 31 + (i >> 7)) % 256);

beforeAll(async () => {
  await initBackend();
  await makeTinyLayersModel(layersDir);
  makeTinyGraphModel(graphDir);
});
afterAll(() => tmp.cleanup());

describe('backbones', () => {
  it('cuts a LayersModel at its last global pooling: the head applied to the embedding gives the full model output', async () => {
    const e = await Embedder.load(spec());
    expect(e.dim).toBe(12);
    const px = pixels(3);
    const emb = e.embed(px, 3);
    const full = await tf.loadLayersModel(folderHandler(layersDir));
    const [w, b] = full.getLayer('head').getWeights();
    const expected = tf.tidy(() => (full.predict(tf.tensor4d(normalise(px, spec().preprocessing), [3, 32, 32, 3])) as tf.Tensor).arraySync() as number[][]);
    const viaHead = tf.tidy(() => tf.softmax(tf.add(tf.matMul(tf.tensor2d(emb, [3, 12]), w!), b!)).arraySync() as number[][]);
    for (let i = 0; i < 3; i++) for (let c = 0; c < 3; c++) expect(viaHead[i]![c]).toBeCloseTo(expected[i]![c]!, 5);
    // The same vector comes out one image at a time as in a batch.
    const single = e.embed(px.subarray(0, 32 * 32 * 3), 1);
    for (let i = 0; i < 12; i++) expect(single[i]).toBeCloseTo(emb[i]!, 5);
    full.dispose();
    e.dispose();
  });

  it('takes a named layer and explains an unknown one by listing layers', async () => {
    const e = await Embedder.load(spec({ featureLayer: 'conv1_relu' }));
    expect(e.dim).toBe(8);
    e.dispose();
    await expect(Embedder.load(spec({ featureLayer: 'nope' }))).rejects.toThrow(/no layer "nope".*conv1_bn/);
  });

  it('loads a GraphModel and takes its last pooling node', async () => {
    const { spec: s } = await resolveBackbone(graphDir, { inputSize: 32 });
    expect(s.format).toBe('graph');
    const e = await Embedder.load(s);
    expect(e.dim).toBe(5);
    const v = e.embed(pixels(2), 2);
    expect(v.length).toBe(10);
    expect(v.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
    e.dispose();
  });

  it('keeps the tensor count flat over many batches, with and without flip TTA', async () => {
    for (const tta of [false, true]) {
      const e = await Embedder.load(spec({ tta }));
      e.embed(pixels(4), 4);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) e.embed(pixels(4), 4);
      expect(tf.memory().numTensors).toBe(before);
      e.dispose();
    }
  });

  it('makes TTA the mean of the image and its mirror', async () => {
    const plain = await Embedder.load(spec());
    const tta = await Embedder.load(spec({ tta: true }));
    const px = pixels(1);
    const mirrored = new Uint8Array(px.length);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) mirrored[(y * 32 + x) * 3 + c] = px[(y * 32 + (31 - x)) * 3 + c]!;
    const a = plain.embed(px, 1);
    const b = plain.embed(mirrored, 1);
    const t = tta.embed(px, 1);
    for (let i = 0; i < a.length; i++) expect(t[i]).toBeCloseTo((a[i]! + b[i]!) / 2, 5);
    plain.dispose();
    tta.dispose();
  });

  it('maps pixels per channel and keys the cache on every preprocessing choice', () => {
    const pre = rangePreprocessing(32, -1, 1);
    expect(Array.from(normalise(Uint8Array.from([0, 255, 127.5]), pre)).map((v) => +v.toFixed(3))).toEqual([-1, 1, -0.004]);
    const base = backboneKey(spec(), 'abc');
    expect(backboneKey(spec(), 'abc')).toBe(base);
    expect(backboneKey(spec({ tta: true }), 'abc')).not.toBe(base);
    expect(backboneKey(spec({ featureLayer: 'pw1' }), 'abc')).not.toBe(base);
    expect(backboneKey(spec({ preprocessing: rangePreprocessing(32, 0, 1) }), 'abc')).not.toBe(base);
    expect(backboneKey(spec(), 'other-weights')).not.toBe(base);
    expect(backboneKey(spec({ dir: '/elsewhere' }), 'abc')).toBe(base);
  });
});

describe('fused inference graph', () => {
  it('folds BatchNorm and activations into the convolutions without changing the output', async () => {
    const { compileFused } = await import('../../src/main/ml/tfjs/fusedGraph.ts');
    const { featureModel } = await import('../../src/main/ml/tfjs/embedder.ts');
    const start = tf.memory().numTensors;
    const model = await tf.loadLayersModel(folderHandler(layersDir));
    // Give BatchNorm non-trivial statistics so folding is really exercised.
    const bn = model.getLayer('conv1_bn');
    tf.tidy(() =>
      bn.setWeights(bn.getWeights().map((w, i) => tf.add(tf.mul(tf.randomUniform(w.shape, 0.5, 1.5, 'float32', i + 1), i === 3 ? 1 : 0.7), i === 3 ? 0.1 : 0))),
    );
    const cut = featureModel(model, null);
    const compiled = compileFused(cut);
    expect(compiled).not.toBeNull();
    const [a, b] = tf.tidy(() => {
      const x = tf.randomUniform([3, 32, 32, 3], -1, 1, 'float32', 5);
      return [(cut.predict(x) as tf.Tensor).dataSync(), compiled!.run(x).dataSync()];
    });
    for (let i = 0; i < a!.length; i++) expect(b![i]).toBeCloseTo(a![i]!, 4);
    compiled!.dispose();
    model.dispose();
    // Every fused weight is freed with the compiled graph; nothing of the model leaks.
    expect(tf.memory().numTensors).toBe(start);
  });

  it('reports that the embedder runs the fused path for the tiny model', async () => {
    const e = await Embedder.load(spec());
    expect(e.fused).toBe(true);
    e.dispose();
  });
});
