import { tf } from '../tfjs/backend.ts';
import type { OnnxGraph, OnnxNode, OnnxTensor } from './proto.ts';

/**
 * Converts a Keras LayersModel (as TF.js loads it, channels-last) to an ONNX graph that takes the same NHWC input
 * and gives the same features. Inside, activations are NCHW (ONNX's layout for Conv and pooling): one Transpose
 * after the input, and back to channels-last only where a Flatten or Reshape needs Keras's element order.
 * BatchNorm stays a node (ONNX Runtime folds it into the convolution when it optimises the graph). A layer it
 * does not know throws an error naming the layer and its class: the caller then stays on TF.js.
 */

const isModel = (l: tf.layers.Layer): l is tf.LayersModel => l instanceof tf.LayersModel;
type Cfg = Record<string, unknown>;
const cfg = (l: tf.layers.Layer): Cfg => l.getConfig() as Cfg;

export class UnsupportedLayer extends Error {}

class Builder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  /** Rank of each tensor made so far (rank-4 tensors are NCHW). */
  readonly rank = new Map<string, number>();
  private n = 0;

  fresh(base: string): string {
    return `${base}__${++this.n}`;
  }

  add(op: string, inputs: string[], output: string, rank: number, attributes?: OnnxNode['attributes']): string {
    this.nodes.push({ op, inputs, outputs: [output], name: output, attributes });
    this.rank.set(output, rank);
    return output;
  }

  floats(base: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  ints(base: string, values: number[]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  scalar(base: string, v: number): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [], data: Float32Array.of(v) });
    return name;
  }
}

const weightsOf = (l: tf.layers.Layer): { data: Float32Array; shape: number[] }[] =>
  l.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, shape: w.shape }));

/** [kh, kw, in, out] (Keras) to [out, in, kh, kw] (ONNX). */
function convKernel(k: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++) for (let o = 0; o < cout!; o++) out[((o * cin! + i) * kh! + y) * kw! + x] = k[((y * kw! + x) * cin! + i) * cout! + o]!;
  return out;
}

/** Depthwise [kh, kw, in, mult] to grouped-conv [in * mult, 1, kh, kw] (output channel i * mult + m, as Keras orders it). */
function depthwiseKernel(k: Float32Array, [kh, kw, cin, mult]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++) for (let m = 0; m < mult!; m++) out[((i * mult! + m) * kh! + y) * kw! + x] = k[((y * kw! + x) * cin! + i) * mult! + m]!;
  return out;
}

function activation(b: Builder, x: string, act: string, name: string): string {
  const r = b.rank.get(x)!;
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return b.add('Relu', [x], name, r);
    case 'relu6':
      return b.add('Clip', [x, b.scalar('zero', 0), b.scalar('six', 6)], name, r);
    case 'sigmoid':
      return b.add('Sigmoid', [x], name, r);
    case 'tanh':
      return b.add('Tanh', [x], name, r);
    case 'elu':
      return b.add('Elu', [x], name, r);
    case 'selu':
      return b.add('Selu', [x], name, r, { alpha: { float: 1.6732632423543772 }, gamma: { float: 1.0507009873554805 } });
    case 'softplus':
      return b.add('Softplus', [x], name, r);
    case 'swish':
    case 'silu':
      return b.add('Mul', [x, b.add('Sigmoid', [x], b.fresh(`${name}_sigmoid`), r)], name, r);
    case 'softmax':
      if (r !== 2) throw new UnsupportedLayer(`softmax over a ${r}-d tensor in ${name}`);
      return b.add('Softmax', [x], name, r, { axis: -1 });
    default:
      throw new UnsupportedLayer(`activation "${act}" in ${name}`);
  }
}

/** A tensor in Keras's channels-last order (what Flatten and Reshape see). */
function channelsLast(b: Builder, x: string): string {
  return b.rank.get(x) === 4 ? b.add('Transpose', [x], b.fresh(`${x}_nhwc`), 4, { perm: [0, 2, 3, 1] }) : x;
}

function pads(l: tf.layers.Layer, explicit: number[] | null): { pads?: number[]; auto_pad?: string } {
  const padding = cfg(l).padding;
  if (explicit) return { pads: explicit };
  if (padding === 'same') return { auto_pad: 'SAME_UPPER' };
  if (padding === 'valid') return { auto_pad: 'VALID' };
  throw new UnsupportedLayer(`padding "${String(padding)}" in ${l.name}`);
}

function conv(b: Builder, l: tf.layers.Layer, x: string, name: string, explicitPads: number[] | null): string {
  const c = cfg(l);
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new UnsupportedLayer(`${l.name} is channels-first`);
  const ws = weightsOf(l);
  const cls = l.getClassName();
  const common = { strides: c.strides as number[], dilations: (c.dilationRate as number[] | undefined) ?? [1, 1], ...pads(l, explicitPads) };
  let y: string;
  if (cls === 'SeparableConv2D') {
    const [dk, pk, bias] = ws;
    const cin = dk!.shape[2]!;
    const dw = b.floats(`${l.name}_dw`, [cin * dk!.shape[3]!, 1, dk!.shape[0]!, dk!.shape[1]!], depthwiseKernel(dk!.data, dk!.shape));
    const mid = b.add('Conv', [x, dw], b.fresh(`${name}_depthwise`), 4, { ...common, kernel_shape: dk!.shape.slice(0, 2), group: cin });
    const pw = b.floats(`${l.name}_pw`, [pk!.shape[3]!, pk!.shape[2]!, 1, 1], convKernel(pk!.data, pk!.shape));
    const bn = c.useBias && bias ? [b.floats(`${l.name}_b`, bias.shape, bias.data)] : [];
    y = b.add('Conv', [mid, pw, ...bn], b.fresh(name), 4, { kernel_shape: [1, 1], strides: [1, 1] });
  } else {
    const [k, bias] = ws;
    const depthwise = cls === 'DepthwiseConv2D';
    const [kh, kw, cin, cout] = k!.shape as [number, number, number, number];
    const w = depthwise
      ? b.floats(`${l.name}_w`, [cin * cout, 1, kh, kw], depthwiseKernel(k!.data, k!.shape))
      : b.floats(`${l.name}_w`, [cout, cin, kh, kw], convKernel(k!.data, k!.shape));
    const bn = c.useBias && bias ? [b.floats(`${l.name}_b`, bias.shape, bias.data)] : [];
    y = b.add('Conv', [x, w, ...bn], b.fresh(name), 4, { ...common, kernel_shape: [kh, kw], group: depthwise ? cin : 1 });
  }
  return activation(b, y, (c.activation as string | undefined) ?? 'linear', name);
}

function batchNorm(b: Builder, l: tf.layers.Layer, x: string, name: string): string {
  const c = cfg(l);
  const r = b.rank.get(x)!;
  if (![-1, r - 1].includes(c.axis as number) && !(r === 4 && c.axis === 3)) throw new UnsupportedLayer(`${l.name} normalises axis ${String(c.axis)}`);
  const ws = weightsOf(l);
  let i = 0;
  const channels = ws.at(-1)!.shape[0]!;
  const ones = new Float32Array(channels).fill(1);
  const gamma = c.scale ? ws[i++]!.data : ones;
  const beta = c.center ? ws[i++]!.data : new Float32Array(channels);
  const mean = ws[i++]!.data;
  const variance = ws[i++]!.data;
  const dims = [channels];
  return b.add(
    'BatchNormalization',
    [
      x,
      b.floats(`${l.name}_gamma`, dims, gamma),
      b.floats(`${l.name}_beta`, dims, beta),
      b.floats(`${l.name}_mean`, dims, mean),
      b.floats(`${l.name}_var`, dims, variance),
    ],
    name,
    r,
    { epsilon: { float: c.epsilon as number } },
  );
}

function pool(b: Builder, l: tf.layers.Layer, x: string, name: string, op: 'MaxPool' | 'AveragePool'): string {
  const c = cfg(l);
  const attrs = { kernel_shape: c.poolSize as number[], strides: (c.strides as number[] | null) ?? (c.poolSize as number[]), ...pads(l, null) };
  return b.add(op, [x], name, 4, op === 'AveragePool' ? { ...attrs, count_include_pad: 0 } : attrs);
}

function reshape(b: Builder, x: string, target: number[], name: string): string {
  const y = b.add('Reshape', [channelsLast(b, x), b.ints('shape', [0, ...target])], target.length === 3 ? b.fresh(name) : name, target.length + 1);
  return target.length === 3 ? b.add('Transpose', [y], name, 4, { perm: [0, 3, 1, 2] }) : y;
}

/** One layer on its input tensors; returns the output tensor's name. */
function layer(b: Builder, l: tf.layers.Layer, xs: string[], name: string, explicitPads: number[] | null): string {
  const c = cfg(l);
  const x = xs[0]!;
  const r = b.rank.get(x)!;
  const cls = l.getClassName();
  switch (cls) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D':
      return conv(b, l, x, name, explicitPads);
    case 'BatchNormalization':
      return batchNorm(b, l, x, name);
    case 'Activation':
      return activation(b, x, c.activation as string, name);
    case 'ReLU': {
      if (c.threshold) throw new UnsupportedLayer(`${l.name}: ReLU with a threshold`);
      if (c.negativeSlope) {
        if (c.maxValue != null) throw new UnsupportedLayer(`${l.name}: leaky ReLU with a maximum`);
        return b.add('LeakyRelu', [x], name, r, { alpha: { float: c.negativeSlope as number } });
      }
      if (c.maxValue == null) return b.add('Relu', [x], name, r);
      return b.add('Clip', [x, b.scalar('zero', 0), b.scalar('max', c.maxValue as number)], name, r);
    }
    case 'LeakyReLU':
      return b.add('LeakyRelu', [x], name, r, { alpha: { float: (c.alpha as number | undefined) ?? 0.3 } });
    case 'Softmax':
      return activation(b, x, 'softmax', name);
    case 'ZeroPadding2D': {
      const [[t, bo], [le, ri]] = c.padding as [[number, number], [number, number]];
      return b.add('Pad', [x, b.ints('pads', [0, 0, t, le, 0, 0, bo, ri])], name, 4);
    }
    case 'Add':
      return xs.length === 2 ? b.add('Add', xs, name, r) : b.add('Sum', xs, name, r);
    case 'Multiply':
      return xs.slice(1).reduce((acc, y, i) => b.add('Mul', [acc, y], i === xs.length - 2 ? name : b.fresh(name), r), x);
    case 'Average':
      return b.add('Mean', xs, name, r);
    case 'Maximum':
      return b.add('Max', xs, name, r);
    case 'Concatenate': {
      const axis = c.axis as number;
      if (!(axis === -1 || axis === r - 1)) throw new UnsupportedLayer(`${l.name}: concatenation over axis ${axis}`);
      return b.add('Concat', xs, name, r, { axis: r === 4 ? 1 : -1 });
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const pooled = b.add(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], c.keepdims ? name : b.fresh(name), 4);
      return c.keepdims ? pooled : b.add('Flatten', [pooled], name, 2, { axis: 1 });
    }
    case 'MaxPooling2D':
      return pool(b, l, x, name, 'MaxPool');
    case 'AveragePooling2D':
      return pool(b, l, x, name, 'AveragePool');
    case 'Flatten':
      return r === 2 ? x : b.add('Flatten', [channelsLast(b, x)], name, 2, { axis: 1 });
    case 'Reshape':
      return reshape(b, x, c.targetShape as number[], name);
    case 'Dense': {
      if (r !== 2) throw new UnsupportedLayer(`${l.name}: Dense on a ${r}-d tensor`);
      const [k, bias] = weightsOf(l);
      const inputs = [x, b.floats(`${l.name}_w`, k!.shape, k!.data)];
      if (c.useBias && bias) inputs.push(b.floats(`${l.name}_b`, bias.shape, bias.data));
      const y = b.add('Gemm', inputs, b.fresh(name), 2);
      return activation(b, y, (c.activation as string | undefined) ?? 'linear', name);
    }
    case 'Rescaling': {
      const scaled = b.add('Mul', [x, b.scalar('scale', c.scale as number)], b.fresh(name), r);
      return b.add('Add', [scaled, b.scalar('offset', (c.offset as number | undefined) ?? 0)], name, r);
    }
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return x;
    default:
      throw new UnsupportedLayer(`layer ${l.name} (${cls})`);
  }
}

function inboundLayers(l: tf.layers.Layer): tf.layers.Layer[] {
  const nodes = (l as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
  if (nodes.length > 1) throw new UnsupportedLayer(`layer ${l.name} is applied more than once`);
  return nodes[0]?.inboundLayers ?? [];
}

/** Converts a (possibly nested) model applied to `input`; returns its output tensor. */
function model(b: Builder, m: tf.LayersModel, input: string, prefix: string): string {
  const out = new Map<tf.layers.Layer, string>();
  // A ZeroPadding2D feeding only a 'valid' convolution becomes that convolution's own pads (one pass less).
  const consumers = new Map<tf.layers.Layer, number>();
  const sequential = m.getClassName() === 'Sequential';
  if (!sequential) for (const l of m.layers) for (const i of inboundLayers(l)) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const padOf = new Map<tf.layers.Layer, number[]>();
  let previous = input;
  if (!sequential) {
    if (m.outputLayers.length !== 1 || m.inputLayers.length !== 1) throw new UnsupportedLayer(`model ${m.name} has several inputs or outputs`);
    out.set(m.inputLayers[0]!, input);
  }
  for (const l of m.layers) {
    if (l.getClassName() === 'InputLayer') continue;
    const xs = sequential ? [previous] : inboundLayers(l).map((i) => out.get(i)!);
    if (xs.some((x) => x === undefined)) throw new UnsupportedLayer(`layer ${l.name}: inputs out of order`);
    const name = `${prefix}${l.name}`;
    let y: string;
    if (isModel(l)) y = model(b, l, xs[0]!, `${name}/`);
    else if (padOf.has(l)) y = layer(b, l, xs, name, padOf.get(l)!);
    else {
      const next = sequential ? m.layers[m.layers.indexOf(l) + 1] : m.layers.find((n) => inboundLayers(n).includes(l));
      if (
        l.getClassName() === 'ZeroPadding2D' &&
        next &&
        (sequential || consumers.get(l) === 1) &&
        ['Conv2D', 'DepthwiseConv2D'].includes(next.getClassName()) &&
        cfg(next).padding === 'valid'
      ) {
        const [[t, bo], [le, ri]] = cfg(l).padding as [[number, number], [number, number]];
        padOf.set(next, [t, le, bo, ri]);
        y = xs[0]!;
      } else y = layer(b, l, xs, name, null);
    }
    out.set(l, y);
    previous = y;
  }
  return sequential ? previous : out.get(m.outputLayers[0]!)!;
}

/**
 * The ONNX graph of a feature model: input `input` [batch, size, size, 3] channels-last as TF.js takes it, output
 * `features` [batch, dim] (a feature map is average-pooled, as the TF.js path does). With `pixels`, the input is the
 * uint8 RGB pixels and the graph maps them (x * scale + offset per channel) itself: no float copy is made in
 * JavaScript, and ONNX Runtime fuses the mapping with the layout change.
 */
export function layersToOnnx(m: tf.LayersModel, inputSize: number, pixels?: { scale: number[]; offset: number[] }): OnnxGraph {
  const b = new Builder();
  b.rank.set('input', 4);
  let x = 'input';
  if (pixels) {
    const cast = b.add('Cast', ['input'], 'input_float', 4, { to: 1 });
    const scaled = b.add('Mul', [cast, b.floats('scale', [3], Float32Array.from(pixels.scale))], 'input_scaled', 4);
    x = b.add('Add', [scaled, b.floats('offset', [3], Float32Array.from(pixels.offset))], 'input_mapped', 4);
  }
  const nchw = b.add('Transpose', [x], 'input_nchw', 4, { perm: [0, 3, 1, 2] });
  let y = model(b, m, nchw, '');
  if (b.rank.get(y) === 4) y = b.add('Flatten', [b.add('GlobalAveragePool', [y], b.fresh('pool'), 4)], b.fresh('flat'), 2, { axis: 1 });
  else if (b.rank.get(y) !== 2) throw new UnsupportedLayer(`the feature output has rank ${b.rank.get(y)}`);
  b.add('Identity', [y], 'features', 2);
  return {
    name: m.name,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [{ name: 'input', shape: ['batch', inputSize, inputSize, 3], uint8: !!pixels }],
    outputs: [{ name: 'features', shape: ['batch', null] }],
  };
}
