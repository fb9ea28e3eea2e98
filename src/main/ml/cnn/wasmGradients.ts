import { tf } from '../tfjs/backend.ts';

/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 does not register, written with kernels it has (strided
 * slices, batched matmul, multiply, sum, pad): Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter and
 * DepthwiseConv2dNativeBackpropInput. With them `model.fit` of a conv net runs on wasm instead of the ~17x slower
 * cpu backend. Each loops over the kernel window (9 steps for 3x3), so the work is a few large wasm ops.
 */

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/** Wraps a kernel input as a tensor; the extra reference keeps the input alive when the wrapper is disposed. */
function asTensor(info: Info): tf.Tensor {
  tf.engine().backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * Hands a result to the engine as a buffer of its own. (Reusing the composite's dataId is not safe: a wasm slice
 * may be a view into another tensor's memory.)
 */
function output(t: tf.Tensor): Info {
  const backend = tf.engine().backend as unknown as { makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): Info };
  const info = backend.makeOutput(t.shape, t.dtype, undefined, t.dataSync());
  t.dispose();
  return info;
}

function convInfo(xShape: number[], filterShape: number[], attrs: Attrs, depthwise: boolean) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    (attrs.dilations as [number, number] | undefined) ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'round' | undefined,
    depthwise,
  );
}

/** Input padded so that every window (i, j) can be sliced, plus the window slicer. */
function windows(x: tf.Tensor4D, info: ReturnType<typeof convInfo>) {
  const { padInfo, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, outHeight, outWidth } = info;
  const [b, h, w, c] = x.shape;
  const needH = (info.filterHeight - 1) * dh + (outHeight - 1) * sh + 1;
  const needW = (info.filterWidth - 1) * dw + (outWidth - 1) * sw + 1;
  const bottom = Math.max(0, needH - h - padInfo.top);
  const right = Math.max(0, needW - w - padInfo.left);
  const xp = tf.pad(x, [
    [0, 0],
    [padInfo.top, bottom],
    [padInfo.left, right],
    [0, 0],
  ]);
  return (i: number, j: number): tf.Tensor4D =>
    tf.stridedSlice(xp, [0, i * dh, j * dw, 0], [b, i * dh + (outHeight - 1) * sh + 1, j * dw + (outWidth - 1) * sw + 1, c], [1, sh, sw, 1]) as tf.Tensor4D;
}

/**
 * dL/dfilter of a convolution: for each tap (i, j) of the window, the input values that tap saw, against dy.
 * Conv2D contracts over batch and positions with one matmul per tap; depthwise keeps channels apart.
 */
function filterGradient({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs }, depthwise: boolean): Info {
  const a = attrs!;
  const filterShape = a.filterShape as [number, number, number, number];
  const result = tf.tidy(() => {
    const x = asTensor(inputs.x!) as tf.Tensor4D;
    const dy = asTensor(inputs.dy!) as tf.Tensor4D;
    const win = windows(x, convInfo(x.shape, filterShape, depthwise ? a : { ...a, dilations: 1 }, depthwise));
    const [kh, kw, inC, last] = filterShape;
    let tap: (seen: tf.Tensor4D) => tf.Tensor;
    if (depthwise) {
      const dy5 = dy.reshape([dy.shape[0], dy.shape[1], dy.shape[2], inC, last]);
      tap = (seen) => tf.sum(tf.mul(tf.expandDims(seen, 4), dy5), [0, 1, 2]);
    } else {
      const dy2 = dy.reshape([-1, last]);
      tap = (seen) => tf.matMul(seen.reshape([-1, inC]), dy2, true, false);
    }
    const parts: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) parts.push(tap(win(i, j)));
    return tf.stack(parts).reshape([kh, kw, inC, last]);
  });
  return output(result);
}

function depthwiseBackpropInput({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs }): Info {
  const a = attrs!;
  const inputShape = a.inputShape as [number, number, number, number];
  const result = tf.tidy(() => {
    const dy = asTensor(inputs.dy!) as tf.Tensor4D;
    const filter = asTensor(inputs.filter!) as tf.Tensor4D;
    const info = convInfo(inputShape, filter.shape, a, true);
    const { padInfo, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, outHeight: oh, outWidth: ow } = info;
    const [b, h, w, c] = inputShape;
    const [kh, kw, , mult] = filter.shape;
    const dy5 = dy.reshape([b, oh, ow, c, mult]);
    const spanH = (oh - 1) * sh + 1;
    const spanW = (ow - 1) * sw + 1;
    const canvasH = Math.max(padInfo.top + h, (kh - 1) * dh + spanH);
    const canvasW = Math.max(padInfo.left + w, (kw - 1) * dw + spanW);
    let acc: tf.Tensor4D | null = null;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Contribution of window (i, j): dy times that tap of the filter, summed over the channel multiplier...
        const tap = tf.slice(filter, [i, j, 0, 0], [1, 1, c, mult]).reshape([c, mult]);
        let part = tf.sum(tf.mul(dy5, tap), 4) as tf.Tensor4D;
        // ...spread back to input rows y*stride + i*dilation (zeros between for stride > 1)...
        if (sh > 1 || sw > 1) {
          part = tf
            .pad(part.reshape([b, oh, 1, ow, 1, c]), [
              [0, 0],
              [0, 0],
              [0, sh - 1],
              [0, 0],
              [0, sw - 1],
              [0, 0],
            ])
            .reshape([b, oh * sh, ow * sw, c])
            .slice([0, 0, 0, 0], [b, spanH, spanW, c]) as tf.Tensor4D;
        }
        part = tf.pad(part, [
          [0, 0],
          [i * dh, canvasH - i * dh - spanH],
          [j * dw, canvasW - j * dw - spanW],
          [0, 0],
        ]);
        acc = acc ? (tf.add(acc, part) as tf.Tensor4D) : part;
      }
    }
    // ...and the padding cut away.
    return tf.slice(acc!, [0, padInfo.top, padInfo.left, 0], [b, h, w, c]);
  });
  return output(result);
}

let registered = false;

/** Registers the missing gradient kernels for the wasm backend (idempotent; leaves existing kernels alone). */
export function registerWasmGradients(): void {
  if (registered) return;
  registered = true;
  const kernels: [string, tf.KernelFunc][] = [
    ['Conv2DBackpropFilter', ((args: Parameters<typeof filterGradient>[0]) => filterGradient(args, false)) as unknown as tf.KernelFunc],
    ['DepthwiseConv2dNativeBackpropFilter', ((args: Parameters<typeof filterGradient>[0]) => filterGradient(args, true)) as unknown as tf.KernelFunc],
    ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput as unknown as tf.KernelFunc],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}
