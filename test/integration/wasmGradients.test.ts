import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';
import { registerWasmGradients } from '../../src/main/ml/cnn/wasmGradients.ts';

interface Case {
  x: [number, number, number, number];
  w: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
  depthwise?: boolean;
}

const CASES: Case[] = [
  { x: [2, 9, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 10, 11, 3], w: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { x: [2, 10, 11, 3], w: [3, 2, 3, 5], strides: 2, pad: 'valid' },
  { x: [1, 8, 8, 6], w: [1, 1, 6, 7], strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 4], w: [3, 3, 4, 1], strides: 1, pad: 'same', depthwise: true },
  { x: [2, 10, 11, 4], w: [3, 3, 4, 2], strides: 2, pad: 'same', depthwise: true },
  { x: [2, 11, 10, 2], w: [5, 3, 2, 3], strides: 2, pad: 'valid', depthwise: true },
];

/** Gradients of a non-linear loss with respect to input and filter, on the current backend. */
function gradients(c: Case): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const x = tf.randomUniform(c.x, -1, 1, 'float32', 1);
    const w = tf.randomUniform(c.w, -1, 1, 'float32', 2);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(
        tf.square(
          c.depthwise
            ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad)
            : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad),
        ),
      );
    const [gx, gw] = tf.grads(loss)([x, w]);
    return [gx!.dataSync() as Float32Array, gw!.dataSync() as Float32Array];
  });
}

function maxRelativeError(a: Float32Array, b: Float32Array): number {
  const scale = Math.max(...Array.from(a, Math.abs), 1e-6);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

beforeAll(async () => {
  await initBackend('wasm');
  registerWasmGradients();
});

describe('wasm gradient kernels', () => {
  it.each(CASES.map((c) => [`${c.depthwise ? 'depthwise' : 'conv2d'} x${c.x.join('x')} w${c.w.join('x')} s${c.strides} ${c.pad}`, c] as const))(
    'matches the cpu backend: %s',
    async (_name, c) => {
      // Back to wasm whatever fails: the files after this one in the worker share TF.js (isolate: false).
      await tf.setBackend('cpu');
      let cpu: ReturnType<typeof gradients>;
      try {
        cpu = gradients(c);
      } finally {
        await tf.setBackend('wasm');
      }
      const [cx, cw] = cpu;
      expect(tf.getBackend()).toBe('wasm');
      const before = tf.memory().numTensors;
      const [wx, ww] = gradients(c);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxRelativeError(cx, wx)).toBeLessThan(1e-5);
      expect(maxRelativeError(cw, ww)).toBeLessThan(1e-5);
    },
  );

  it('lets model.fit train a small conv net on wasm and lowers its loss', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [16, 16, 3],
          filters: 6,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.03), loss: 'categoricalCrossentropy' });
    // Class 1 images are bright on the left half: learnable only through the convolutions.
    const [xs, ys] = tf.tidy(() => {
      const n = 32;
      const base = tf.randomUniform([n, 16, 16, 3], 0, 0.3, 'float32', 4);
      const labels = tf.tensor1d(
        Array.from({ length: n }, (_, i) => i % 2),
        'int32',
      );
      const mask = tf.concat([tf.ones([16, 8, 3]), tf.zeros([16, 8, 3])], 1);
      const x = tf.add(base, tf.mul(tf.reshape(tf.cast(labels, 'float32'), [n, 1, 1, 1]), mask));
      return [x, tf.oneHot(labels, 2)];
    });
    const h = await model.fit(xs, ys, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = h.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
    xs.dispose();
    ys.dispose();
    model.dispose();
  });
});
