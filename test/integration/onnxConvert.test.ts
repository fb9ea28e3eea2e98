import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';
import { layersToOnnx, UnsupportedLayer } from '../../src/main/ml/onnx/fromLayers.ts';
import { encodeModel } from '../../src/main/ml/onnx/proto.ts';

// The TF.js -> ONNX converter, op by op, on generated Keras models with random weights (BatchNorm statistics too):
// ONNX Runtime must give what TF.js gives, within 1e-4 of the output's scale.

type ST = tf.SymbolicTensor;
const L = tf.layers;

/** Every weight random (variances positive), so no op is checked on its identity initialisation. */
function randomise(m: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const w of m.weights) {
    const v = w.read();
    const positive = /variance/.test(w.name);
    w.write(positive ? tf.randomUniform(v.shape, 0.5, 1.5, 'float32', s++) : tf.randomNormal(v.shape, 0, 0.3, 'float32', s++));
  }
}

async function compare(m: tf.LayersModel, size: number): Promise<{ rel: number; dims: readonly number[] }> {
  randomise(m, 5);
  const bytes = encodeModel(layersToOnnx(m, size));
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const x = tf.randomUniform([3, size, size, 3], -1, 1, 'float32', 9);
  const expected = tf.tidy(() => {
    const y = m.predict(x) as tf.Tensor;
    return (y.rank === 4 ? tf.mean(y, [1, 2]) : y.reshape([3, -1])).dataSync();
  });
  const out = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, [3, size, size, 3]) });
  await session.release();
  const actual = out.features!.data as Float32Array;
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 1e-9;
  actual.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  });
  return { rel: diff / scale, dims: out.features!.dims };
}

const input = (size: number) => tf.input({ shape: [size, size, 3] });
const apply = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;

beforeAll(async () => {
  await initBackend();
});

describe('TF.js layers model to ONNX', () => {
  it('converts a MobileNetV2-style block: stride-2 same conv, BN, ReLU6, padded valid depthwise, residual add, pooling, dense', async () => {
    const i = input(17);
    let x = apply(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), i);
    x = apply(L.batchNormalization({ epsilon: 1e-3 }), x);
    x = apply(L.reLU({ maxValue: 6 }), x);
    const pad = apply(
      L.zeroPadding2d({
        padding: [
          [1, 1],
          [1, 1],
        ],
      }),
      x,
    );
    let y = apply(L.depthwiseConv2d({ kernelSize: 3, strides: 1, padding: 'valid', depthMultiplier: 2 }), pad);
    y = apply(L.batchNormalization({}), y);
    y = apply(L.reLU({}), y);
    y = apply(L.conv2d({ filters: 8, kernelSize: 1 }), y);
    x = apply(L.add(), [x, y]);
    // MobileNetV2's stride-2 blocks: asymmetric zero padding, then a 'valid' strided depthwise convolution.
    x = apply(
      L.zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
      }),
      x,
    );
    x = apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid' }), x);
    x = apply(L.globalAveragePooling2d({}), x);
    x = apply(L.dense({ units: 5, activation: 'sigmoid' }), x);
    const r = await compare(tf.model({ inputs: i, outputs: x }), 17);
    expect(r.dims).toEqual([3, 5]);
    expect(r.rel).toBeLessThan(1e-4);
  });

  it('converts strides, dilation, pooling modes, flatten order and activations in a Sequential model', async () => {
    const m = tf.sequential({
      layers: [
        L.conv2d({ inputShape: [20, 20, 3], filters: 6, kernelSize: 3, dilationRate: 2, padding: 'valid', activation: 'relu' }),
        L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        L.averagePooling2d({ poolSize: 2, padding: 'valid' }),
        L.conv2d({ filters: 4, kernelSize: [2, 3], strides: [1, 2], padding: 'same', activation: 'tanh' }),
        L.flatten(),
        L.dropout({ rate: 0.5 }),
        L.dense({ units: 7, activation: 'softmax' }),
      ],
    });
    const r = await compare(m, 20);
    expect(r.dims).toEqual([3, 7]);
    expect(r.rel).toBeLessThan(1e-4);
  });

  it.each(['elu', 'selu', 'softplus', 'swish', 'linear'] as const)('converts the %s activation', async (activation) => {
    const i = input(8);
    const x = apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation }), i);
    const r = await compare(tf.model({ inputs: i, outputs: x }), 8);
    expect(r.dims).toEqual([3, 4]);
    expect(r.rel).toBeLessThan(1e-4);
  });

  it('converts separable convolutions, concatenation, leaky ReLU, max pooling and a feature map output (average-pooled)', async () => {
    const i = input(12);
    const a = apply(L.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same', depthMultiplier: 2 }), i);
    const b = apply(L.conv2d({ filters: 3, kernelSize: 1 }), i);
    let x = apply(L.concatenate({ axis: -1 }), [a, b]);
    x = apply(L.leakyReLU({ alpha: 0.2 }), x);
    const pooled = apply(L.globalMaxPooling2d({}), x);
    const r1 = await compare(tf.model({ inputs: i, outputs: pooled }), 12);
    expect(r1.dims).toEqual([3, 8]);
    expect(r1.rel).toBeLessThan(1e-4);
    const r2 = await compare(tf.model({ inputs: i, outputs: x }), 12);
    expect(r2.dims).toEqual([3, 8]);
    expect(r2.rel).toBeLessThan(1e-4);
  });

  it('converts a MobileNet v1-style head (reshape to 1x1xC, 1x1 conv, reshape back) and a model nested in a Sequential', async () => {
    const i = input(10);
    let x = apply(L.conv2d({ filters: 6, kernelSize: 3, strides: 2 }), i);
    x = apply(L.globalAveragePooling2d({}), x);
    x = apply(L.reshape({ targetShape: [1, 1, 6] }), x);
    x = apply(L.conv2d({ filters: 4, kernelSize: 1 }), x);
    x = apply(L.reshape({ targetShape: [4] }), x);
    const inner = tf.model({ inputs: i, outputs: x });
    const outer = tf.sequential({ layers: [inner, L.dense({ units: 2 })] });
    const r = await compare(outer, 10);
    expect(r.dims).toEqual([3, 2]);
    expect(r.rel).toBeLessThan(1e-4);
  });

  it('takes uint8 pixels and maps them in the graph (x * scale + offset per channel) when asked', async () => {
    const i = input(9);
    const m = tf.model({ inputs: i, outputs: apply(L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' }), i) });
    randomise(m, 3);
    const scale = [1 / 58.4, 1 / 57.1, 1 / 57.4];
    const offset = [-2.12, -2.04, -1.8];
    const session = await ort.InferenceSession.create(encodeModel(layersToOnnx(m, 9, { scale, offset })), { intraOpNumThreads: 1 });
    const pixels = Uint8Array.from({ length: 2 * 9 * 9 * 3 }, (_, k) => (k * 37) % 256);
    const x = Float32Array.from(pixels, (v, k) => v * scale[k % 3]! + offset[k % 3]!);
    const expected = tf.tidy(() => tf.mean(m.predict(tf.tensor4d(x, [2, 9, 9, 3])) as tf.Tensor, [1, 2]).dataSync());
    const out = await session.run({ input: new ort.Tensor('uint8', pixels, [2, 9, 9, 3]) });
    await session.release();
    const actual = out.features!.data as Float32Array;
    let diff = 0;
    let max = 1e-9;
    actual.forEach((v, k) => {
      diff = Math.max(diff, Math.abs(v - expected[k]!));
      max = Math.max(max, Math.abs(expected[k]!));
    });
    expect(diff / max).toBeLessThan(1e-4);
  });

  it('names a layer it cannot convert', () => {
    const i = input(8);
    const x = apply(L.conv2dTranspose({ filters: 2, kernelSize: 3, name: 'upsample_me' }), i);
    expect(() => layersToOnnx(tf.model({ inputs: i, outputs: x }), 8)).toThrow(UnsupportedLayer);
    expect(() => layersToOnnx(tf.model({ inputs: i, outputs: x }), 8)).toThrow('layer upsample_me (Conv2DTranspose)');
  });
});
