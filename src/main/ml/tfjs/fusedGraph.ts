import { scoped, tf } from './backend.ts';

/**
 * Inference-only compiler for Keras CNNs: folds each BatchNormalization into the convolution before it, fuses
 * the following ReLU/ReLU6 into the same kernel, and turns ZeroPadding2D + 'valid' convolution into one padded
 * convolution. tfjs-layers runs those as separate passes over the activations; fused, MobileNets run markedly
 * faster on wasm and cpu. Returns null when a layer is not understood (the caller keeps the standard path).
 */
export type Compiled = { run(x: tf.Tensor): tf.Tensor; dispose(): void };

type Act = 'linear' | 'relu' | 'relu6';
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Cfg {
  [k: string]: unknown;
}

const cfg = (l: tf.layers.Layer): Cfg => l.getConfig() as Cfg;
const isModel = (l: tf.layers.Layer): l is tf.LayersModel => l instanceof tf.LayersModel;

function activationOf(l: tf.layers.Layer): Act | null {
  const c = cfg(l);
  if (l.getClassName() === 'ReLU') {
    if (c.maxValue === 6) return 'relu6';
    if (c.maxValue == null && !c.negativeSlope && !c.threshold) return 'relu';
    return null;
  }
  if (l.getClassName() === 'Activation') {
    const a = c.activation;
    return a === 'relu' || a === 'relu6' || a === 'linear' ? a : null;
  }
  return null;
}

function inputsOf(l: tf.layers.Layer): tf.layers.Layer[] {
  const nodes = (l as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
  return nodes[0]?.inboundLayers ?? [];
}

/** Compiles a model; every weight it makes is kept until dispose(). */
export function compileFused(model: tf.LayersModel): Compiled | null {
  const kept: tf.Tensor[] = [];
  // A clone shares the data but not the life: disposing it never frees a weight the model still owns.
  const keep = <T extends tf.Tensor>(t: T): T => {
    const own = tf.keep(t.clone()) as T;
    kept.push(own);
    return own;
  };
  // Intermediate tensors of the folding are freed with the scope; kept ones (the fused weights) survive it.
  const fn = scoped(() => compileModel(model, keep));
  if (!fn) {
    kept.forEach((t) => t.dispose());
    return null;
  }
  return { run: fn, dispose: () => kept.forEach((t) => t.dispose()) };
}

type Fn = (x: tf.Tensor) => tf.Tensor;

function compileModel(model: tf.LayersModel, keep: <T extends tf.Tensor>(t: T) => T): Fn | null {
  const layers = model.layers;
  if (model.getClassName() === 'Sequential') {
    const steps: Fn[] = [];
    for (const l of layers) {
      const f = compileSingle(l, keep);
      if (!f) return null;
      steps.push(f);
    }
    return (x) => steps.reduce((acc, f) => f(acc), x);
  }
  // Functional graph: layers are in topological order; fuse conv → BN → activation chains with single consumers.
  const consumers = new Map<tf.layers.Layer, tf.layers.Layer[]>();
  for (const l of layers) {
    if ((l as unknown as { inboundNodes: unknown[] }).inboundNodes.length > 1) return null;
    for (const i of inputsOf(l)) consumers.set(i, [...(consumers.get(i) ?? []), l]);
  }
  const sole = (l: tf.layers.Layer): tf.layers.Layer | null => {
    const c = consumers.get(l) ?? [];
    return c.length === 1 ? c[0]! : null;
  };
  type Step = { layer: tf.layers.Layer; inputs: tf.layers.Layer[]; f: (xs: tf.Tensor[]) => tf.Tensor };
  const steps: Step[] = [];
  const alias = new Map<tf.layers.Layer, tf.layers.Layer>();
  const skipped = new Set<tf.layers.Layer>();
  const inputLayers = new Set(model.inputLayers);
  const resolve = (l: tf.layers.Layer): tf.layers.Layer => alias.get(l) ?? l;

  for (const l of layers) {
    if (skipped.has(l)) continue;
    const cls = l.getClassName();
    if (inputLayers.has(l)) continue;
    const ins = inputsOf(l).map(resolve);
    if (cls === 'ZeroPadding2D') {
      const next = sole(l);
      const p = cfg(l).padding as [[number, number], [number, number]];
      if (next && (next.getClassName() === 'Conv2D' || next.getClassName() === 'DepthwiseConv2D') && cfg(next).padding === 'valid') {
        alias.set(l, ins[0]!);
        paddingFor.set(next, [[0, 0], p[0], p[1], [0, 0]]);
        continue;
      }
      steps.push({ layer: l, inputs: ins, f: ([x]) => tf.pad(x!, [[0, 0], p[0], p[1], [0, 0]]) });
      continue;
    }
    if (cls === 'Conv2D' || cls === 'DepthwiseConv2D') {
      const conv = buildConv(l, paddingFor.get(l) ?? null, sole, keep);
      if (!conv) return null;
      for (const folded of conv.folded) {
        skipped.add(folded);
        alias.set(folded, l);
      }
      steps.push({ layer: l, inputs: ins, f: ([x]) => conv.apply(x!) });
      continue;
    }
    const single = isModel(l) ? compileModel(l, keep) : compileSingle(l, keep);
    if (single) {
      steps.push({ layer: l, inputs: ins, f: ([x]) => single(x!) });
      continue;
    }
    if (cls === 'Add') {
      steps.push({ layer: l, inputs: ins, f: (xs) => tf.addN(xs) });
      continue;
    }
    return null;
  }
  const outLayer = resolve(model.outputLayers[0]!);
  const inputLayer = model.inputLayers[0]!;
  if (model.outputLayers.length !== 1 || model.inputLayers.length !== 1) return null;
  return (x) => {
    const values = new Map<tf.layers.Layer, tf.Tensor>([[inputLayer, x]]);
    for (const s of steps) values.set(s.layer, s.f(s.inputs.map((i) => values.get(i)!)));
    return values.get(outLayer)!;
  };
}

const paddingFor = new WeakMap<tf.layers.Layer, Pad>();

function buildConv(
  l: tf.layers.Layer,
  explicitPad: Pad | null,
  sole: (l: tf.layers.Layer) => tf.layers.Layer | null,
  keep: <T extends tf.Tensor>(t: T) => T,
): { apply: Fn; folded: tf.layers.Layer[] } | null {
  const c = cfg(l);
  const depthwise = l.getClassName() === 'DepthwiseConv2D';
  if (c.dataFormat !== 'channelsLast') return null;
  const [kernel, ownBias] = l.getWeights();
  let w = kernel!;
  let bias: tf.Tensor1D | null = c.useBias ? (ownBias as tf.Tensor1D) : null;
  let act: Act = (c.activation as Act) ?? 'linear';
  if (!['linear', 'relu', 'relu6'].includes(act)) return null;
  const folded: tf.layers.Layer[] = [];
  let tail: tf.layers.Layer = l;
  const bn = act === 'linear' ? sole(l) : null;
  if (bn && bn.getClassName() === 'BatchNormalization' && [-1, 3].includes(cfg(bn).axis as number)) {
    const b = cfg(bn);
    const ws = bn.getWeights();
    let i = 0;
    const gamma = b.scale ? ws[i++]! : null;
    const beta = b.center ? ws[i++]! : null;
    const mean = ws[i++]!;
    const variance = ws[i++]!;
    let scale = tf.rsqrt(tf.add(variance, b.epsilon as number));
    if (gamma) scale = tf.mul(scale, gamma);
    const outC = scale.shape[0]!;
    w = depthwise ? tf.mul(w, scale.reshape([1, 1, w.shape[2]!, w.shape[3]!])) : tf.mul(w, scale.reshape([1, 1, 1, outC]));
    let b0: tf.Tensor = tf.mul(tf.sub(bias ?? tf.zeros([outC]), mean), scale);
    if (beta) b0 = tf.add(b0, beta);
    bias = b0 as tf.Tensor1D;
    folded.push(bn);
    tail = bn;
  }
  const next = sole(tail);
  const nextAct = next ? activationOf(next) : null;
  if (act === 'linear' && next && nextAct) {
    act = nextAct;
    folded.push(next);
  }
  const filter = keep(w as tf.Tensor4D);
  const b = bias ? keep(bias) : undefined;
  const strides = c.strides as [number, number];
  const dilations = c.dilationRate as [number, number];
  const pad = (explicitPad ?? c.padding) as Pad;
  const activation = act === 'linear' ? undefined : act;
  const apply: Fn = depthwise
    ? (x) => tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter, strides, pad: pad as 'same', dilations, bias: b, activation })
    : (x) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter, strides, pad: pad as 'same', dilations, bias: b, activation });
  return { apply, folded };
}

/** Layers that need no fusion. Null when unsupported. */
function compileSingle(l: tf.layers.Layer, keep: <T extends tf.Tensor>(t: T) => T): Fn | null {
  const c = cfg(l);
  switch (l.getClassName()) {
    case 'Dropout':
    case 'InputLayer':
      return (x) => x;
    case 'GlobalAveragePooling2D':
      return (x) => tf.mean(x, [1, 2]);
    case 'GlobalMaxPooling2D':
      return (x) => tf.max(x, [1, 2]);
    case 'Flatten':
      return (x) => x.reshape([x.shape[0]!, -1]);
    case 'Reshape':
      return (x) => x.reshape([x.shape[0]!, ...(c.targetShape as number[])]);
    case 'ReLU':
    case 'Activation': {
      const a = activationOf(l);
      if (a === 'relu') return (x) => tf.relu(x);
      if (a === 'relu6') return (x) => tf.relu6(x);
      if (a === 'linear') return (x) => x;
      return null;
    }
    case 'BatchNormalization': {
      const ws = l.getWeights();
      let i = 0;
      const gamma = c.scale ? keep(ws[i++]!) : undefined;
      const beta = c.center ? keep(ws[i++]!) : undefined;
      const mean = keep(ws[i++]!);
      const variance = keep(ws[i++]!);
      return (x) => tf.batchNorm(x, mean, variance, beta, gamma, c.epsilon as number);
    }
    default:
      if (isModel(l)) return compileModel(l, keep);
      return null;
  }
}
