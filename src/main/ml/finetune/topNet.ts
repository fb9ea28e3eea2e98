/**
 * The top of a cut network in TF.js: its ONNX nodes run as TF.js ops (channels-last) on variables made from the
 * ONNX weights, so it trains, and its tuned weights go back into ONNX layouts for the exported model.
 */
import { DermFuseError } from '../../../shared/errors.ts';
import type { AttributeValue, OnnxNode, OnnxTensor } from '../onnx/proto.ts';
import { tf } from '../tfjs/backend.ts';
import type { TopSpec } from './cut.ts';
import { conv, depthwise, pointwise, type Pads } from './ops.ts';

/** How a weight is held in TF.js, so it can be written back in ONNX's layout. */
type Layout = 'pointwise' | 'depthwise' | 'conv' | 'plain';

export interface TopNet {
  /** Trainable weights by ONNX initializer name. */
  variables: Map<string, tf.Variable>;
  /** Pooled features [n, d] of cut activations given as NCHW [n, c, h, w]. */
  forward(x: tf.Tensor4D): tf.Tensor2D;
  /** The tuned weights in ONNX layout, by initializer name. */
  exportWeights(): OnnxTensor[];
  dispose(): void;
}

const ints = (v: AttributeValue | undefined, fallback: number[]): number[] => (Array.isArray(v) ? v : fallback);
const int = (v: AttributeValue | undefined, fallback: number): number => (typeof v === 'number' ? v : fallback);

function refuse(n: OnnxNode, why: string): never {
  throw new DermFuseError('INVALID_ARGUMENT', `The network cannot be fine-tuned from this cut: ${n.op} node ${n.name ?? ''} ${why}.`);
}

/** Builds the top's variables and forward pass; throws naming the first node it cannot train. */
export function buildTopNet(top: TopSpec): TopNet {
  const weights = new Map(top.weights.map((t) => [t.name, t]));
  const variables = new Map<string, tf.Variable>();
  const layouts = new Map<string, { layout: Layout; dims: number[] }>();
  const constants = new Map<string, tf.Tensor>();
  const floatsOf = (name: string, n: OnnxNode): Float32Array => {
    const t = weights.get(name);
    if (!t || !(t.data instanceof Float32Array)) refuse(n, `reads "${name}", which is not a float weight`);
    return t.data;
  };
  const variable = (name: string, n: OnnxNode, layout: Layout, make: (w: Float32Array, dims: number[]) => tf.Tensor): tf.Variable => {
    const have = variables.get(name);
    if (have) return have;
    const dims = weights.get(name)?.dims ?? [];
    const initial = tf.tidy(() => make(floatsOf(name, n), dims));
    const v = tf.variable(initial, true, `ft/${name}`);
    initial.dispose(); // the variable holds its own reference to the values
    variables.set(name, v);
    layouts.set(name, { layout, dims });
    return v;
  };
  const constant = (name: string, n: OnnxNode): tf.Tensor => {
    const have = constants.get(name);
    if (have) return have;
    const t = weights.get(name);
    if (!t) refuse(n, `reads "${name}", which is not a weight`);
    const c = t.data instanceof Float32Array ? tf.tensor(t.data, t.dims.length ? t.dims : []) : tf.tensor(Array.from(t.data, Number), t.dims, 'int32');
    constants.set(name, c);
    return c;
  };

  type Step = (env: Map<string, tf.Tensor>) => void;
  const steps: Step[] = [];
  for (const n of top.nodes) {
    const a = n.attributes ?? {};
    const [x0, x1, x2] = n.inputs;
    const out = n.outputs[0]!;
    switch (n.op) {
      case 'Conv': {
        const dims = weights.get(x1!)?.dims;
        if (!dims || dims.length !== 4) refuse(n, 'has no 4-d weight');
        const [o, ig, kh, kw] = dims as [number, number, number, number];
        const group = int(a.group, 1);
        const strides = ints(a.strides, [1, 1]);
        const p = ints(a.pads, [0, 0, 0, 0]);
        const pads: Pads = [p[0]!, p[1]!, p[2]!, p[3]!];
        if (ints(a.dilations, [1, 1]).some((d) => d !== 1)) refuse(n, 'is dilated');
        if (strides[0] !== strides[1]) refuse(n, 'has unequal strides');
        if (typeof a.auto_pad === 'string' && a.auto_pad !== 'NOTSET') refuse(n, `uses auto_pad ${a.auto_pad}`);
        const s = strides[0]!;
        const bias = x2
          ? variable(x2, n, 'plain', (w) => tf.tensor1d(w))
          : (constants.get(`zeros-${o}`) ?? constants.set(`zeros-${o}`, tf.zeros([o])).get(`zeros-${o}`)!);
        if (group === 1 && kh === 1 && kw === 1 && s === 1 && pads.every((v) => v === 0)) {
          // ONNX [out, in, 1, 1] -> [in, out].
          const w = variable(x1!, n, 'pointwise', (v) => tf.transpose(tf.tensor2d(v, [o, ig])));
          steps.push((env) => env.set(out, pointwise(env.get(x0!) as tf.Tensor4D, w as tf.Tensor2D, bias as tf.Tensor1D)));
        } else if (group > 1 && ig === 1 && group === o) {
          // ONNX [c, 1, kh, kw] -> [kh, kw, c, 1].
          const w = variable(x1!, n, 'depthwise', (v) => tf.transpose(tf.tensor4d(v, [o, 1, kh, kw]), [2, 3, 0, 1]));
          steps.push((env) => env.set(out, depthwise(env.get(x0!) as tf.Tensor4D, w as tf.Tensor4D, bias as tf.Tensor1D, s, pads)));
        } else if (group === 1) {
          // ONNX [out, in, kh, kw] -> [kh, kw, in, out].
          const w = variable(x1!, n, 'conv', (v) => tf.transpose(tf.tensor4d(v, [o, ig, kh, kw]), [2, 3, 1, 0]));
          steps.push((env) => env.set(out, conv(env.get(x0!) as tf.Tensor4D, w as tf.Tensor4D, bias as tf.Tensor1D, s, pads)));
        } else refuse(n, `is a grouped convolution (${group} groups) that is not depthwise`);
        break;
      }
      case 'Relu':
        steps.push((env) => env.set(out, tf.relu(env.get(x0!)!)));
        break;
      case 'Clip': {
        const lo = x1 ? constant(x1, n).dataSync()[0]! : ((a.min as { float: number } | undefined)?.float ?? -Infinity);
        const hi = x2 ? constant(x2, n).dataSync()[0]! : ((a.max as { float: number } | undefined)?.float ?? Infinity);
        steps.push((env) => env.set(out, lo === 0 && hi === 6 ? tf.relu6(env.get(x0!)!) : tf.clipByValue(env.get(x0!)!, lo, hi)));
        break;
      }
      case 'Sigmoid':
        steps.push((env) => env.set(out, tf.sigmoid(env.get(x0!)!)));
        break;
      case 'Identity':
        steps.push((env) => env.set(out, env.get(x0!) ?? constant(x0!, n)));
        break;
      case 'Add':
      case 'Mul': {
        // Feature maps are channels-last here: a per-channel factor ([n, 1, 1, c], squeeze-excitation) broadcasts as in ONNX.
        const other = (env: Map<string, tf.Tensor>, name: string) => env.get(name) ?? constant(name, n);
        const op = n.op === 'Add' ? tf.add : tf.mul;
        // A weight of more than one value would broadcast along ONNX's axes, not these: only scalars are taken.
        for (const w of [x0!, x1!]) if ((weights.get(w)?.data.length ?? 1) > 1) refuse(n, `combines a feature map with the weight "${w}" laid out for ONNX`);
        steps.push((env) => env.set(out, op(other(env, x0!), other(env, x1!))));
        break;
      }
      case 'ReduceMean':
      case 'GlobalAveragePool': {
        const axes = n.op === 'GlobalAveragePool' ? [2, 3] : ints(a.axes, [2, 3]);
        if (axes.length !== 2 || !axes.includes(2) || !axes.includes(3)) refuse(n, 'averages over other axes than the spatial ones');
        // Channels-last here: the spatial axes are 1 and 2. GlobalAveragePool keeps them (as ONNX does), ReduceMean as told.
        const keep = n.op === 'GlobalAveragePool' || int(a.keepdims, 1) === 1;
        steps.push((env) => env.set(out, tf.mean(env.get(x0!)!, [1, 2], keep)));
        break;
      }
      case 'Flatten':
      case 'Squeeze':
      case 'Reshape':
        // After pooling: [n, c], or [n, 1, 1, c] (the same values in ONNX's [n, c, 1, 1]); a feature map would need its layout changed.
        steps.push((env) => {
          const v = env.get(x0!)!;
          if (v.rank === 4 && v.shape[1] === 1 && v.shape[2] === 1) env.set(out, v.reshape([v.shape[0]!, v.shape[3]!]));
          else if (v.rank === 2) env.set(out, v);
          else refuse(n, 'reshapes a feature map');
        });
        break;
      default:
        refuse(n, 'is not an operation DermFuse can train (Conv, Relu, Clip, Sigmoid, Add, Mul, Identity, ReduceMean, GlobalAveragePool, Flatten)');
    }
  }

  return {
    variables,
    forward(x: tf.Tensor4D): tf.Tensor2D {
      return tf.tidy(() => {
        const env = new Map<string, tf.Tensor>([[top.input, tf.transpose(x, [0, 2, 3, 1])]]);
        for (const s of steps) s(env);
        const y = env.get(top.output)!;
        return (y.rank === 4 ? tf.mean(y, [1, 2]) : y) as tf.Tensor2D;
      });
    },
    exportWeights(): OnnxTensor[] {
      return [...variables.entries()].map(([name, v]) => {
        const { layout, dims } = layouts.get(name)!;
        const data = tf.tidy(() => {
          if (layout === 'pointwise') return tf.transpose(v);
          if (layout === 'depthwise') return tf.transpose(v, [2, 3, 0, 1]);
          if (layout === 'conv') return tf.transpose(v, [3, 2, 0, 1]);
          return v.clone();
        });
        const values = data.dataSync() as Float32Array;
        data.dispose();
        return { name, dims, data: Float32Array.from(values) };
      });
    },
    dispose() {
      for (const v of variables.values()) v.dispose();
      for (const c of constants.values()) c.dispose();
    },
  };
}
