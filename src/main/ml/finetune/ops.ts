import { tf } from '../tfjs/backend.ts';

/**
 * The two convolutions of a MobileNet-style top with gradients written for speed on the wasm backend. Its own
 * gradients of a matrix product transpose inside the kernel (tf.matMul with transposeA/B), which runs about ten
 * times slower there than a product of explicitly transposed operands (measured: 2.7 vs 15-30 GFLOP/s); its
 * depthwise gradients exist only as the slow windowed kernels of cnn/wasmGradients.ts.
 */

/** Explicit padding of a convolution: [top, left, bottom, right], as ONNX writes it. */
export type Pads = [number, number, number, number];

/** A 1x1 convolution as a matrix product: x [n,h,w,cin] (NHWC), w [cin,cout], b [cout]. */
export function pointwise(x: tf.Tensor4D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor4D {
  const f = tf.customGrad(((xIn: tf.Tensor, wIn: tf.Tensor, bIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const [n, h, wd, c] = xIn.shape as [number, number, number, number];
    const x2 = tf.reshape(xIn, [n * h * wd, c]) as tf.Tensor2D;
    save([x2, wIn]);
    const y = tf.add(tf.matMul(x2, wIn as tf.Tensor2D), bIn).reshape([n, h, wd, wIn.shape[1]!]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = tf.reshape(dy, [n * h * wd, ws.shape[1]]) as tf.Tensor2D;
        return [tf.matMul(dy2, tf.transpose(ws)).reshape([n, h, wd, c]), tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, w, b) as tf.Tensor4D;
}

/** dy with s-1 zeros between its values along height and width (the input gradient of a strided convolution). */
function dilate(dy: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  const lw = (ow - 1) * s + 1;
  const wide = tf
    .pad(tf.reshape(dy, [n * oh, ow, 1, c]), [
      [0, 0],
      [0, 0],
      [0, s - 1],
      [0, 0],
    ])
    .reshape([n, oh, ow * s, c])
    .slice([0, 0, 0, 0], [n, oh, lw, c]);
  return tf
    .pad(tf.reshape(wide, [n, oh, 1, lw * c]), [
      [0, 0],
      [0, 0],
      [0, s - 1],
      [0, 0],
    ])
    .reshape([n, oh * s, lw, c])
    .slice([0, 0, 0, 0], [n, (oh - 1) * s + 1, lw, c]) as tf.Tensor4D;
}

function padded(x: tf.Tensor4D, p: Pads): tf.Tensor4D {
  if (p.every((v) => v === 0)) return x;
  return tf.pad(x, [
    [0, 0],
    [p[0], p[2]],
    [p[1], p[3]],
    [0, 0],
  ]);
}

/** A depthwise convolution: x [n,h,w,c], w [kh,kw,c,1], stride s, explicit pads; then + b [c]. */
export function depthwise(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, s: number, pads: Pads): tf.Tensor4D {
  const f = tf.customGrad(((xIn: tf.Tensor, wIn: tf.Tensor, bIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const xp = padded(xIn as tf.Tensor4D, pads);
    save([xp, wIn]);
    const y = tf.add(tf.depthwiseConv2d(xp, wIn as tf.Tensor4D, s, 'valid'), bIn);
    return {
      value: y,
      gradFunc: (dyIn: tf.Tensor, saved: tf.Tensor[]) => {
        const dy = dyIn as tf.Tensor4D;
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [kh, kw, c] = ws.shape;
        const n = dy.shape[0];
        const [, H, W] = xs.shape;
        // dW[i,j,c] = sum over n,y,x of xp[n,y+i,x+j,c] * dyd[n,y,x,c]: itself a depthwise correlation, of the
        // padded input with the dilated dy as kernel, each (image, channel) pair a channel; then summed over images.
        // (Windows cut with Slice or StridedSlice instead run ~10x slower on wasm: they copy non-contiguous memory.)
        const dyd = dilate(dy, s);
        const [, lh, lw] = dyd.shape;
        const asChannels = tf.transpose(xs, [1, 2, 0, 3]).reshape([1, H, W, n * c]) as tf.Tensor4D;
        const asKernel = tf.transpose(dyd, [1, 2, 0, 3]).reshape([lh, lw, n * c, 1]) as tf.Tensor4D;
        // The correlation may reach past the kernel (a strided window leaves rows unused): its first kh x kw taps.
        const full = tf.depthwiseConv2d(asChannels, asKernel, 1, 'valid');
        const perImage = tf.slice(full, [0, 0, 0, 0], [1, kh, kw, n * c]).reshape([kh, kw, n, c]);
        const dw = tf.sum(perImage, 2).reshape([kh, kw, c, 1]);
        // dX: the full correlation of the dilated dy with the kernel turned 180 degrees, over padded coordinates.
        const dyp = tf.pad(dyd, [
          [0, 0],
          [kh - 1, H - dyd.shape[1]],
          [kw - 1, W - dyd.shape[2]],
          [0, 0],
        ]);
        const dxp = tf.depthwiseConv2d(dyp, tf.reverse(ws, [0, 1]), 1, 'valid');
        const h = xIn.shape[1]!;
        const wd = xIn.shape[2]!;
        const dx = tf.slice(dxp, [0, pads[0], pads[1], 0], [n, h, wd, c]);
        return [dx, dw, tf.sum(dy, [0, 1, 2])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, w, b) as tf.Tensor4D;
}

/** A full convolution (group 1, any kernel) through TF.js's own gradients: x [n,h,w,cin], w [kh,kw,cin,cout]. */
export function conv(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, s: number, pads: Pads): tf.Tensor4D {
  return tf.add(tf.conv2d(padded(x, pads), w, s, 'valid'), b);
}
