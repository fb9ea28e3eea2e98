import { beforeAll, describe, expect, it } from 'vitest';
import { depthwise, pointwise } from '../../src/main/ml/finetune/ops.ts';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';

beforeAll(async () => {
  await initBackend('cpu');
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

describe('the fine-tuning convolutions', () => {
  it.each([1, 2])('give the gradients of TF.js’s own depthwise convolution (stride %i, padded)', (s) => {
    const x = tf.randomNormal([2, 8, 8, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([3, 3, 5, 1], 0, 1, 'float32', 2);
    const b = tf.randomNormal([5], 0, 1, 'float32', 3);
    const loss = (f: (a: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D) => tf.Tensor) => (a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.square(f(a as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D)));
    const ours = tf.grads(loss((a, ww, bb) => depthwise(a, ww, bb, s, [1, 1, 1, 1])))([x, w, b]);
    const ref = tf.grads(
      loss((a, ww, bb) =>
        tf.add(
          tf.depthwiseConv2d(
            tf.pad(a, [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ]),
            ww,
            s,
            'valid',
          ),
          bb,
        ),
      ),
    )([x, w, b]);
    ours.forEach((g, i) => expect(maxDiff(g, ref[i]!)).toBeLessThan(1e-3));
    expect(
      maxDiff(
        depthwise(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, s, [1, 1, 1, 1]),
        tf.add(
          tf.depthwiseConv2d(
            tf.pad(x as tf.Tensor4D, [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ]),
            w as tf.Tensor4D,
            s,
            'valid',
          ),
          b,
        ),
      ),
    ).toBeLessThan(1e-5);
  });

  it('give the gradients of a 1x1 convolution as a matrix product', () => {
    const x = tf.randomNormal([2, 4, 4, 5], 0, 1, 'float32', 4);
    const w = tf.randomNormal([5, 7], 0, 1, 'float32', 5);
    const b = tf.randomNormal([7], 0, 1, 'float32', 6);
    const ours = tf.grads((a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(pointwise(a as tf.Tensor4D, ww as tf.Tensor2D, bb as tf.Tensor1D))))(
      [x, w, b],
    );
    const ref = tf.grads((a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.square(tf.add(tf.conv2d(a as tf.Tensor4D, (ww as tf.Tensor2D).reshape([1, 1, 5, 7]) as tf.Tensor4D, 1, 'valid'), bb))),
    )([x, w, b]);
    ours.forEach((g, i) => expect(maxDiff(g, ref[i]!)).toBeLessThan(1e-3));
  });
});
