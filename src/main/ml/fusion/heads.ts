import { tf } from '../tfjs/backend.ts';
import { groupedStratifiedFolds } from '../stats/splits.ts';
import { NEWTON_MAX_UNKNOWNS, solveLinear } from './linearNewton.ts';

/**
 * The trainable heads. 'linear' is softmax regression on whichever blocks it is given (image PCs, metadata, or
 * both with separate L2 strengths: the classic hybrid network with the image block reduced and regularised apart
 * from the metadata). 'gating' lets the metadata scale and shift the image features before the classifier, as in
 * MetaBlock (Pacheco & Krohling 2021). 'mlp' is one hidden ReLU layer with dropout and weight decay on the
 * blocks it is given, early-stopped on held-out patients.
 */
export const HEAD_KINDS = ['linear', 'gating', 'mlp'] as const;
export type HeadKind = (typeof HEAD_KINDS)[number];

export interface HeadData {
  n: number;
  image: Float32Array | null;
  imageDim: number;
  meta: Float32Array | null;
  metaDim: number;
  labels: Int32Array;
  classes: number;
  /** Per-row weight (balanced class weights). */
  weights: Float32Array;
  groups: string[];
  shas: string[];
}

export interface SerialTensor {
  shape: number[];
  values: number[];
}

export interface HeadModel {
  kind: HeadKind;
  classes: number;
  imageDim: number;
  metaDim: number;
  params: Record<string, SerialTensor>;
}

/** L2 on image-block weights: many correlated PCs, few patients; stronger than on the handful of metadata columns. */
export const L2_IMAGE = 3e-3;
export const L2_META = 1e-3;
const LEARNING_RATE = 0.05;
const MAX_EPOCHS = 300;
/** Convex (linear) heads train until the regularised loss improves by less than this, relative, over 10 epochs. */
const CONVERGED = 1e-4;
const VALIDATE_EVERY = 5;
/** Full-batch epochs without a better validation loss before stopping. */
const PATIENCE = 25;
/** MLP head: hidden units and the dropout on them while training. */
const HIDDEN = 32;
const DROPOUT = 0.3;

type Params = Record<string, tf.Variable>;

function initParams(kind: HeadKind, d: HeadData, seed: number): Params {
  const p: Params = {};
  const glorot = (shape: number[], s: number) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / (shape[0]! + shape[1]!)), 'float32', s));
  if (kind === 'linear') {
    if (d.image) p.wImage = glorot([d.imageDim, d.classes], seed);
    if (d.meta) p.wMeta = glorot([d.metaDim, d.classes], seed + 1);
  } else if (kind === 'mlp') {
    const he = (shape: number[], s: number) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / shape[0]!), 'float32', s));
    if (d.image) p.wImage = he([d.imageDim, HIDDEN], seed);
    if (d.meta) p.wMeta = he([d.metaDim, HIDDEN], seed + 1);
    p.bHidden = tf.variable(tf.zeros([HIDDEN]));
    p.wOut = glorot([HIDDEN, d.classes], seed + 2);
  } else {
    p.wGate = tf.variable(tf.zeros([d.metaDim, d.imageDim]));
    p.bGate = tf.variable(tf.zeros([d.imageDim]));
    p.wShift = tf.variable(tf.zeros([d.metaDim, d.imageDim]));
    p.wImage = glorot([d.imageDim, d.classes], seed);
    p.wMeta = glorot([d.metaDim, d.classes], seed + 1);
  }
  p.bias = tf.variable(tf.zeros([d.classes]));
  return p;
}

/** Logits of a head; `dropoutSeed` turns the MLP's dropout on (training only). */
function logits(kind: HeadKind, p: Record<string, tf.Tensor>, image: tf.Tensor2D | null, meta: tf.Tensor2D | null, dropoutSeed?: number): tf.Tensor2D {
  let out: tf.Tensor = p.bias!;
  if (kind === 'mlp') {
    let h: tf.Tensor = p.bHidden!;
    if (image) h = tf.add(h, tf.matMul(image, p.wImage as tf.Tensor2D));
    if (meta) h = tf.add(h, tf.matMul(meta, p.wMeta as tf.Tensor2D));
    h = tf.relu(h);
    if (dropoutSeed !== undefined) h = tf.dropout(h, DROPOUT, undefined, dropoutSeed);
    return tf.add(out, tf.matMul(h as tf.Tensor2D, p.wOut as tf.Tensor2D)) as tf.Tensor2D;
  }
  if (kind === 'linear') {
    if (image) out = tf.add(out, tf.matMul(image, p.wImage as tf.Tensor2D));
    if (meta) out = tf.add(out, tf.matMul(meta, p.wMeta as tf.Tensor2D));
    return out as tf.Tensor2D;
  }
  // Gate starts at 1 (2·sigmoid(0)) and shift at 0: training begins from the plain concatenation.
  const gate = tf.mul(2, tf.sigmoid(tf.add(tf.matMul(meta!, p.wGate as tf.Tensor2D), p.bGate!)));
  const modulated = tf.add(tf.mul(image!, gate), tf.matMul(meta!, p.wShift as tf.Tensor2D));
  return tf.add(tf.add(out, tf.matMul(modulated as tf.Tensor2D, p.wImage as tf.Tensor2D)), tf.matMul(meta!, p.wMeta as tf.Tensor2D)) as tf.Tensor2D;
}

function penalty(p: Record<string, tf.Tensor>): tf.Scalar {
  let s = tf.scalar(0);
  if (p.wImage) s = tf.add(s, tf.mul(L2_IMAGE, tf.sum(tf.square(p.wImage))));
  if (p.wMeta) s = tf.add(s, tf.mul(L2_META, tf.sum(tf.square(p.wMeta))));
  if (p.wGate) s = tf.add(s, tf.mul(L2_META, tf.add(tf.sum(tf.square(p.wGate)), tf.sum(tf.square(p.wShift!)))));
  if (p.wOut) s = tf.add(s, tf.mul(L2_META, tf.sum(tf.square(p.wOut))));
  return s;
}

function rows(src: Float32Array | null, dim: number, idx: number[]): tf.Tensor2D | null {
  if (!src) return null;
  const out = new Float32Array(idx.length * dim);
  idx.forEach((i, k) => out.set(src.subarray(i * dim, (i + 1) * dim), k * dim));
  return tf.tensor2d(out, [idx.length, dim]);
}

function weightedLoss(
  kind: HeadKind,
  p: Record<string, tf.Tensor>,
  x: { image: tf.Tensor2D | null; meta: tf.Tensor2D | null; y: tf.Tensor2D; w: tf.Tensor1D },
  dropoutSeed?: number,
): tf.Scalar {
  const ce = tf.losses.softmaxCrossEntropy(x.y, logits(kind, p, x.image, x.meta, dropoutSeed), x.w, 0, tf.Reduction.SUM_BY_NONZERO_WEIGHTS);
  return ce as tf.Scalar;
}

function tensors(d: HeadData, idx: number[]) {
  return {
    image: rows(d.image, d.imageDim, idx),
    meta: rows(d.meta, d.metaDim, idx),
    y: tf.oneHot(
      tf.tensor1d(
        idx.map((i) => d.labels[i]!),
        'int32',
      ),
      d.classes,
    ) as tf.Tensor2D,
    w: tf.tensor1d(idx.map((i) => d.weights[i]!)),
  };
}

/** Full-batch Adam for `epochs` epochs, or until the validation loss stops improving; returns the epochs that were best. */
function train(
  kind: HeadKind,
  d: HeadData,
  trainIdx: number[],
  valIdx: number[] | null,
  epochs: number,
  seed: number,
  untilConverged = false,
): { params: Params; bestEpochs: number } {
  const params = initParams(kind, d, seed);
  const opt = tf.train.adam(LEARNING_RATE);
  const tr = tensors(d, trainIdx);
  const va = valIdx ? tensors(d, valIdx) : null;
  let best = Infinity;
  let bestEpochs = epochs;
  let snapshot: tf.Tensor[] | null = null;
  const names = Object.keys(params);
  let lastCheck = Infinity;
  for (let e = 1; e <= epochs; e++) {
    let cost: number | null = null;
    tf.tidy(() => {
      const dropoutSeed = kind === 'mlp' ? seed * 1000 + e : undefined;
      const c = opt.minimize(() => tf.add(weightedLoss(kind, params, tr, dropoutSeed), penalty(params)) as tf.Scalar, untilConverged && e % 10 === 0);
      if (c) cost = c.dataSync()[0]!;
    });
    if (cost !== null) {
      if (lastCheck - (cost as number) < CONVERGED * Math.abs(lastCheck)) {
        bestEpochs = e;
        break;
      }
      lastCheck = cost;
    }
    // Reading the validation loss waits for the backend: every 5 epochs is enough to stop in time.
    if (va && e % VALIDATE_EVERY === 0) {
      const v = tf.tidy(() => weightedLoss(kind, params, va).dataSync()[0]!);
      if (v < best - 1e-5) {
        best = v;
        bestEpochs = e;
        snapshot?.forEach((t) => t.dispose());
        snapshot = names.map((k) => params[k]!.clone());
      } else if (e - bestEpochs >= PATIENCE) break;
    }
  }
  if (snapshot) {
    names.forEach((k, i) => params[k]!.assign(snapshot![i]!));
    snapshot.forEach((t) => t.dispose());
  }
  const held: (tf.Tensor | null | undefined)[] = [tr.image, tr.meta, tr.y, tr.w, va?.image, va?.meta, va?.y, va?.w];
  tf.dispose(held.filter((t): t is tf.Tensor => !!t));
  opt.dispose();
  return { params, bestEpochs };
}

/**
 * Fits a head. Linear heads are convex (L2 softmax regression): they train to convergence, whose optimum is
 * unique, so tiny changes in the features cannot swing the result. Gating and MLP heads are not convex: they find their
 * number of epochs by early stopping on a fifth of the patients held out, then (with `refit`) trains again on all
 * the given rows for that many epochs. Selection-only gating models skip the refit.
 */
export function fitHead(kind: HeadKind, d: HeadData, idx: number[], seed: number, refit = true): HeadModel {
  if (kind === 'linear') {
    const columns = (d.image ? d.imageDim : 0) + (d.meta ? d.metaDim : 0) + 1;
    if (columns * d.classes <= NEWTON_MAX_UNKNOWNS) return linearByNewton(d, idx);
    return serialise(kind, d, train(kind, d, idx, null, MAX_EPOCHS * 2, seed, true).params);
  }
  const folds = groupedStratifiedFolds(
    idx.map((i) => ({ group: d.groups[i]!, sha256: d.shas[i]!, label: d.labels[i]! })),
    5,
    seed,
  );
  const inner = idx.filter((_, k) => folds[k] !== 0);
  const val = idx.filter((_, k) => folds[k] === 0);
  const probe = train(kind, d, inner, val, MAX_EPOCHS, seed);
  let params = probe.params;
  if (refit) {
    Object.values(probe.params).forEach((v) => v.dispose());
    params = train(kind, d, idx, null, Math.max(probe.bestEpochs, 10), seed).params;
  }
  return serialise(kind, d, params);
}

/** The linear head at its optimum (linearNewton.ts), with the same parameters as the first-order path. */
export function linearByNewton(d: HeadData, idx: number[]): HeadModel {
  const di = d.image ? d.imageDim : 0;
  const dm = d.meta ? d.metaDim : 0;
  const p = di + dm + 1;
  const x = new Float32Array(idx.length * p);
  const l2 = new Float64Array(p);
  l2.fill(L2_IMAGE, 0, di);
  l2.fill(L2_META, di, di + dm);
  idx.forEach((i, r) => {
    if (d.image) x.set(d.image.subarray(i * di, (i + 1) * di), r * p);
    if (d.meta) x.set(d.meta.subarray(i * dm, (i + 1) * dm), r * p + di);
    x[r * p + p - 1] = 1;
  });
  const C = d.classes;
  const theta = solveLinear({
    x,
    n: idx.length,
    p,
    labels: Int32Array.from(idx, (i) => d.labels[i]!),
    classes: C,
    weights: Float32Array.from(idx, (i) => d.weights[i]!),
    l2,
  });
  const block = (from: number, rowsOf: number): SerialTensor => ({
    shape: [rowsOf, C],
    values: Array.from(theta.subarray(from * C, (from + rowsOf) * C), Math.fround),
  });
  const params: Record<string, SerialTensor> = {};
  if (d.image) params.wImage = block(0, di);
  if (d.meta) params.wMeta = block(di, dm);
  params.bias = { shape: [C], values: Array.from(theta.subarray((p - 1) * C), Math.fround) };
  return { kind: 'linear', classes: C, imageDim: d.imageDim, metaDim: d.metaDim, params };
}

function serialise(kind: HeadKind, d: HeadData, params: Params): HeadModel {
  const out: Record<string, SerialTensor> = {};
  for (const [k, v] of Object.entries(params)) {
    out[k] = { shape: v.shape, values: Array.from(v.dataSync()) };
    v.dispose();
  }
  return { kind, classes: d.classes, imageDim: d.imageDim, metaDim: d.metaDim, params: out };
}

/** Class probabilities (n × classes, row-major) of the given rows. */
export function predictHead(m: HeadModel, d: Pick<HeadData, 'image' | 'meta' | 'imageDim' | 'metaDim'>, idx: number[]): Float64Array {
  const values = tf.tidy(() => {
    const p: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(m.params)) p[k] = tf.tensor(v.values, v.shape);
    const image = m.params.wImage && d.image ? rows(d.image, d.imageDim, idx) : null;
    const meta = (m.params.wMeta || m.params.wGate) && d.meta ? rows(d.meta, d.metaDim, idx) : null;
    return tf.softmax(logits(m.kind, p, image, meta));
  });
  const out = Float64Array.from(values.dataSync());
  values.dispose();
  return out;
}
