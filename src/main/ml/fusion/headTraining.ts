import { tf } from '../tfjs/backend.ts';
import type { HeadData, HeadKind, SerialTensor } from './heads.ts';

/**
 * Full-batch Adam for several heads of one kind at once: each parameter carries a leading model axis, each model its
 * own training and validation rows (zero weight elsewhere). The losses are summed, so each model's gradient, and
 * Adam's element-wise steps, are what it would get alone; the kernels are dispatched once for all of them, which is
 * what a small head's epoch costs on TF.js. The inner cross-validation fits its three folds' heads this way. One
 * difference: the MLP's dropout mask is drawn over every model's rows at once, so an MLP fitted in a batch is not
 * bit-identical to one fitted alone (same distribution, other draws).
 */

/** L2 on image-block weights: many correlated PCs, few patients; stronger than on the handful of metadata columns. */
export const L2_IMAGE = 3e-3;
export const L2_META = 1e-3;
const LEARNING_RATE = 0.05;
/** Convex (linear) heads train until the regularised loss improves by less than this, relative, over 10 epochs. */
const CONVERGED = 1e-4;
const VALIDATE_EVERY = 5;
/** Full-batch epochs without a better validation loss before stopping. */
const PATIENCE = 25;
/** MLP head: hidden units and the dropout on them while training. */
const HIDDEN = 32;
const DROPOUT = 0.3;

/** The model axis added to one model's parameter, as `logits` takes it (matrices [1, a, b], vectors [1, 1, b]). */
export const batchedShape = (shape: number[]): number[] => (shape.length === 1 ? [1, 1, shape[0]!] : [1, ...shape]);

function initParams(kind: HeadKind, d: HeadData, seed: number, models: number): Record<string, tf.Variable> {
  const p: Record<string, tf.Tensor> = {};
  const glorot = (shape: number[], s: number) => tf.randomNormal(shape, 0, Math.sqrt(2 / (shape[0]! + shape[1]!)), 'float32', s);
  if (kind === 'linear') {
    if (d.image) p.wImage = glorot([d.imageDim, d.classes], seed);
    if (d.meta) p.wMeta = glorot([d.metaDim, d.classes], seed + 1);
  } else if (kind === 'mlp') {
    const he = (shape: number[], s: number) => tf.randomNormal(shape, 0, Math.sqrt(2 / shape[0]!), 'float32', s);
    if (d.image) p.wImage = he([d.imageDim, HIDDEN], seed);
    if (d.meta) p.wMeta = he([d.metaDim, HIDDEN], seed + 1);
    p.bHidden = tf.zeros([HIDDEN]);
    p.wOut = glorot([HIDDEN, d.classes], seed + 2);
  } else {
    p.wGate = tf.zeros([d.metaDim, d.imageDim]);
    p.bGate = tf.zeros([d.imageDim]);
    p.wShift = tf.zeros([d.metaDim, d.imageDim]);
    p.wImage = glorot([d.imageDim, d.classes], seed);
    p.wMeta = glorot([d.metaDim, d.classes], seed + 1);
  }
  p.bias = tf.zeros([d.classes]);
  // Every model starts where a single one would with this seed.
  const out: Record<string, tf.Variable> = {};
  for (const [k, t] of Object.entries(p)) {
    const tiled = tf.tidy(() => tf.tile(tf.reshape(t, batchedShape(t.shape)), [models, 1, 1]));
    out[k] = tf.variable(tiled);
    tf.dispose([t, tiled]);
  }
  return out;
}

/** Logits [models, rows, classes] of batched heads; `dropoutSeed` turns the MLP's dropout on (training only). */
export function logits(kind: HeadKind, p: Record<string, tf.Tensor>, image: tf.Tensor3D | null, meta: tf.Tensor3D | null, dropoutSeed?: number): tf.Tensor3D {
  const mm = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  let out: tf.Tensor = p.bias!;
  if (kind === 'mlp') {
    let h: tf.Tensor = p.bHidden!;
    if (image) h = tf.add(h, mm(image, p.wImage!));
    if (meta) h = tf.add(h, mm(meta, p.wMeta!));
    h = tf.relu(h);
    if (dropoutSeed !== undefined) h = tf.dropout(h, DROPOUT, undefined, dropoutSeed);
    return tf.add(out, mm(h, p.wOut!)) as tf.Tensor3D;
  }
  if (kind === 'linear') {
    if (image) out = tf.add(out, mm(image, p.wImage!));
    if (meta) out = tf.add(out, mm(meta, p.wMeta!));
    return out as tf.Tensor3D;
  }
  // Gate starts at 1 (2·sigmoid(0)) and shift at 0: training begins from the plain concatenation.
  const gate = tf.mul(2, tf.sigmoid(tf.add(mm(meta!, p.wGate!), p.bGate!)));
  const modulated = tf.add(tf.mul(image!, gate), mm(meta!, p.wShift!));
  return tf.add(tf.add(out, mm(modulated, p.wImage!)), mm(meta!, p.wMeta!)) as tf.Tensor3D;
}

/** Each model's L2 penalty [models]. */
function penalties(p: Record<string, tf.Tensor>): tf.Tensor1D {
  const sq = (t: tf.Tensor) => tf.sum(tf.square(t), [1, 2]);
  let s: tf.Tensor = tf.zeros([p.bias!.shape[0]!]);
  if (p.wImage) s = tf.add(s, tf.mul(L2_IMAGE, sq(p.wImage)));
  if (p.wMeta) s = tf.add(s, tf.mul(L2_META, sq(p.wMeta)));
  if (p.wGate) s = tf.add(s, tf.mul(L2_META, tf.add(sq(p.wGate), sq(p.wShift!))));
  if (p.wOut) s = tf.add(s, tf.mul(L2_META, sq(p.wOut)));
  return s as tf.Tensor1D;
}

/** Rows of a block as [models, rows, dim] (the same rows for every model). */
export function block(src: Float32Array | null, dim: number, idx: number[], models: number): tf.Tensor3D | null {
  if (!src) return null;
  const out = new Float32Array(idx.length * dim);
  idx.forEach((i, k) => out.set(src.subarray(i * dim, (i + 1) * dim), k * dim));
  const one = tf.tensor3d(out, [1, idx.length, dim]);
  if (models === 1) return one;
  const tiled = tf.tile(one, [models, 1, 1]);
  one.dispose();
  return tiled;
}

/** Each model's mean weighted cross-entropy over its rows [models]: `w` is [models, rows], zero off its rows. */
function losses(z: tf.Tensor3D, y: tf.Tensor3D, w: tf.Tensor2D, count: tf.Tensor1D): tf.Tensor1D {
  const ce = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(z)), 2));
  return tf.div(tf.sum(tf.mul(w, ce), 1), count) as tf.Tensor1D;
}

export interface TrainSet {
  train: number[];
  /** Rows for early stopping; null: train for `epochs`. */
  val: number[] | null;
  /** At most this many epochs (for a refit: exactly this many). */
  epochs: number;
}

/**
 * Trains one head per set, all at once; returns each one's parameters (one model's shapes) and the epochs that were
 * best (early stopping), last (a fixed number) or converged (`untilConverged`, the convex heads).
 */
export function trainHeads(
  kind: HeadKind,
  d: HeadData,
  sets: TrainSet[],
  seed: number,
  untilConverged = false,
): { params: Record<string, SerialTensor>; bestEpochs: number }[] {
  const F = sets.length;
  const rows = [...new Set(sets.flatMap((s) => [...s.train, ...(s.val ?? [])]))].sort((a, b) => a - b);
  const pos = new Map(rows.map((r, k) => [r, k]));
  const weightsOf = (pick: (s: TrainSet) => number[] | null) => {
    const w = new Float32Array(F * rows.length);
    const count = new Float32Array(F);
    sets.forEach((s, f) => {
      for (const i of pick(s) ?? []) {
        w[f * rows.length + pos.get(i)!] = d.weights[i]!;
        if (d.weights[i] !== 0) count[f]!++;
      }
    });
    return { w: tf.tensor2d(w, [F, rows.length]), count: tf.tensor1d(count.map((c) => Math.max(c, 1))) };
  };
  const image = block(d.image, d.imageDim, rows, F);
  const meta = block(d.meta, d.metaDim, rows, F);
  const y = tf.tidy(() =>
    tf.expandDims(
      tf
        .oneHot(
          tf.tensor1d(
            Int32Array.from(rows, (i) => d.labels[i]!),
            'int32',
          ),
          d.classes,
        )
        .toFloat(),
      0,
    ),
  ) as tf.Tensor3D;
  const tr = weightsOf((s) => s.train);
  const hasVal = sets.some((s) => s.val);
  const va = hasVal ? weightsOf((s) => s.val) : null;
  const params = initParams(kind, d, seed, F);
  const names = Object.keys(params);
  const opt = tf.train.adam(LEARNING_RATE);
  const maxEpochs = Math.max(...sets.map((s) => s.epochs));
  const best = new Array<number>(F).fill(Infinity);
  const bestEpochs = sets.map((s) => s.epochs);
  const lastCheck = new Array<number>(F).fill(Infinity);
  const done = new Array<boolean>(F).fill(false);
  const snapshot: (tf.Tensor[] | null)[] = new Array(F).fill(null);
  const keep = (f: number, e: number) => {
    bestEpochs[f] = e;
    snapshot[f]?.forEach((t) => t.dispose());
    snapshot[f] = names.map((k) => params[k]!.clone());
  };
  for (let e = 1; e <= maxEpochs && done.includes(false); e++) {
    tf.tidy(() => {
      const dropoutSeed = kind === 'mlp' ? seed * 1000 + e : undefined;
      opt.minimize(() => tf.sum(tf.add(losses(logits(kind, params, image, meta, dropoutSeed), y, tr.w, tr.count), penalties(params))) as tf.Scalar);
    });
    if (untilConverged && e % 10 === 0) {
      const cost = tf.tidy(() => tf.add(losses(logits(kind, params, image, meta), y, tr.w, tr.count), penalties(params)).dataSync());
      sets.forEach((_, f) => {
        if (done[f]) return;
        if (lastCheck[f]! - cost[f]! < CONVERGED * Math.abs(lastCheck[f]!)) {
          keep(f, e);
          done[f] = true;
        } else lastCheck[f] = cost[f]!;
      });
    }
    // Reading the validation loss waits for the backend: every 5 epochs is enough to stop in time.
    if (va && e % VALIDATE_EVERY === 0) {
      const v = tf.tidy(() => losses(logits(kind, params, image, meta), y, va.w, va.count).dataSync());
      sets.forEach((s, f) => {
        if (done[f] || !s.val) return;
        if (v[f]! < best[f]! - 1e-5) {
          best[f] = v[f]!;
          keep(f, e);
        } else if (e - bestEpochs[f]! >= PATIENCE) done[f] = true;
      });
    }
    sets.forEach((s, f) => {
      if (!done[f] && !s.val && !untilConverged && e === s.epochs) {
        keep(f, e);
        done[f] = true;
      }
    });
  }
  const out = sets.map((_, f) => {
    const from = snapshot[f] ?? names.map((k) => params[k]!);
    const one: Record<string, SerialTensor> = {};
    names.forEach((k, i) => {
      const t = from[i]!;
      const shape = k === 'bias' || k === 'bHidden' || k === 'bGate' ? [t.shape[2]!] : [t.shape[1]!, t.shape[2]!];
      one[k] = { shape, values: Array.from(tf.tidy(() => tf.slice(t, [f, 0, 0], [1, -1, -1]).dataSync())) };
    });
    return { params: one, bestEpochs: bestEpochs[f]! };
  });
  snapshot.forEach((s) => s?.forEach((t) => t.dispose()));
  tf.dispose([...Object.values(params), y, tr.w, tr.count, ...(va ? [va.w, va.count] : []), ...[image, meta].filter((t): t is tf.Tensor3D => !!t)]);
  opt.dispose();
  return out;
}
