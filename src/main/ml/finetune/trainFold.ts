/**
 * Fine-tuning on one training set: the top of the network and two heads on its pooled features (image only, and
 * image joined with the encoded metadata) trained together on random cached views, early-stopped on held-out
 * patients; predictions average the pooled features of every view (test-time augmentation).
 */
import { fitHead, type HeadData, type HeadModel } from '../fusion/heads.ts';
import { youdenThreshold } from '../fusion/metrics.ts';
import type { OnnxTensor } from '../onnx/proto.ts';
import { groupedStratifiedFolds } from '../stats/splits.ts';
import { rngFrom } from '../stats/random.ts';
import { tf } from '../tfjs/backend.ts';
import type { TopSpec } from './cut.ts';
import { buildTopNet } from './topNet.ts';
import type { ViewCache } from './viewCache.ts';

/** Samples per step: what the PyTorch recipe uses; larger batches did no better on a few hundred photos. */
const BATCH = 32;
/** Pretrained blocks move slowly, the new heads ten times faster (the usual discriminative fine-tuning rates). */
const LR_TOP = 1e-4;
const LR_HEAD = 1e-3;
/** Decoupled weight decay (AdamW), on every weight. */
const WEIGHT_DECAY = 1e-2;
/** Dropout on the pooled features while training. */
const DROPOUT = 0.2;
/** Epochs without a lower validation loss before stopping (the best epoch's weights are kept). */
const PATIENCE = 3;
/** One of this many patient-grouped folds of the training set is held out for early stopping. */
const INNER_FOLDS = 5;
/** Views per forward pass when averaging views. */
const EVAL_BATCH = 64;

export interface FoldTask {
  top: TopSpec;
  /** Cache record of each dataset row. */
  records: number[];
  labels: Int32Array;
  classes: number;
  /** Encoded metadata of every row (encoder fitted on this task's training rows), rows x metaDim. */
  meta: Float32Array;
  metaDim: number;
  groups: string[];
  shas: string[];
  train: number[];
  test: number[];
  /** The cached views averaged for validation and test (the flips and turns); training draws from all cached views. */
  testViews: number;
  epochs: number;
  seed: number;
  /** The final fit: also return the tuned weights and the heads. */
  keepModel: boolean;
}

export interface FoldResult {
  /** Test rows' probabilities (test.length x classes) of each head. */
  image: Float64Array;
  fused: Float64Array;
  /** Binary thresholds (Youden) on the held-out validation patients' predictions. */
  thresholds: { image: number; fused: number };
  bestEpoch: number;
  epochsRun: number;
  validationLoss: number[];
  /** Training samples per second (forward and backward on one view each). */
  samplesPerSecond: number;
  heads?: { image: HeadModel; fused: HeadModel };
  weights?: OnnxTensor[];
}

export type Tick = (epoch: number, epochs: number, validationLoss: number | null) => Promise<void>;

function classWeights(labels: Int32Array, idx: number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const i of idx) counts[labels[i]!]!++;
  return counts.map((c) => (c > 0 ? idx.length / (classes * c) : 0));
}

/** A linear head on the metadata alone, fitted (convex, L2) on the rows the network trains on. */
function metadataStart(t: FoldTask, rows: number[]): HeadModel['params'] {
  const cw = classWeights(t.labels, rows, t.classes);
  const data: HeadData = {
    n: t.labels.length,
    image: null,
    imageDim: 0,
    meta: t.meta,
    metaDim: t.metaDim,
    labels: t.labels,
    classes: t.classes,
    weights: Float32Array.from(t.labels, (l) => cw[l]!),
    groups: t.groups,
    shas: t.shas,
  };
  return fitHead('linear', data, rows, t.seed + 7).params;
}

export async function trainFold(cache: ViewCache, t: FoldTask, tick: Tick): Promise<FoldResult> {
  const C = t.classes;
  const items = t.train.map((i) => ({ group: t.groups[i]!, sha256: t.shas[i]!, label: t.labels[i]! }));
  const inner = groupedStratifiedFolds(items, Math.min(INNER_FOLDS, new Set(items.map((x) => x.group)).size), t.seed);
  const fit = t.train.filter((_, k) => inner[k] !== 0);
  const valid = t.train.filter((_, k) => inner[k] === 0);
  const cw = classWeights(t.labels, fit, C);
  const [ch, h, w] = cache.shape.dims;
  const views = cache.shape.views;
  const testViews = t.testViews;
  if (!Number.isInteger(testViews) || testViews < 1 || testViews > views) throw new Error(`${testViews} test views of a cache of ${views}`);
  const rand = rngFrom(t.seed);

  const net = buildTopNet(t.top);
  const probe = tf.tidy(() => net.forward(tf.zeros([1, ch, h, w]) as tf.Tensor4D));
  const D = probe.shape[1];
  probe.dispose();
  const glorot = (rows: number, s: number) => tf.variable(tf.randomNormal([rows, C], 0, Math.sqrt(2 / (rows + C)), 'float32', s));
  // The fused head starts as a linear metadata model fitted on these rows, with no image weight: 1280 pooled
  // features beside a few metadata columns otherwise drown them (naive concatenation scores below metadata alone).
  const metaStart = t.metaDim > 0 ? metadataStart(t, fit) : null;
  const head = {
    wImage: glorot(D, t.seed + 1),
    bImage: tf.variable(tf.zeros([C])),
    wFusedImage: tf.variable(tf.zeros([D, C])),
    wFusedMeta: metaStart ? tf.variable(tf.tensor(metaStart.wMeta!.values, metaStart.wMeta!.shape)) : glorot(1, t.seed + 3),
    bFused: metaStart ? tf.variable(tf.tensor(metaStart.bias!.values, metaStart.bias!.shape)) : tf.variable(tf.zeros([C])),
  };
  const topVars = [...net.variables.values()];
  const headVars = Object.values(head);
  const optTop = tf.train.adam(LR_TOP);
  const optHead = tf.train.adam(LR_HEAD);
  const metaRows = (idx: number[]) => {
    const out = new Float32Array(idx.length * Math.max(t.metaDim, 1));
    if (t.metaDim > 0) idx.forEach((i, k) => out.set(t.meta.subarray(i * t.metaDim, (i + 1) * t.metaDim), k * t.metaDim));
    return tf.tensor2d(out, [idx.length, Math.max(t.metaDim, 1)]);
  };
  const logits = (pooled: tf.Tensor2D, meta: tf.Tensor2D) => ({
    image: tf.add(tf.matMul(pooled, head.wImage), head.bImage) as tf.Tensor2D,
    fused: tf.add(tf.add(tf.matMul(pooled, head.wFusedImage), tf.matMul(meta, head.wFusedMeta)), head.bFused) as tf.Tensor2D,
  });
  const lossOf = (l: { image: tf.Tensor2D; fused: tf.Tensor2D }, idx: number[]) => {
    const y = tf.oneHot(
      tf.tensor1d(
        idx.map((i) => t.labels[i]!),
        'int32',
      ),
      C,
    );
    const wt = tf.tensor1d(idx.map((i) => cw[t.labels[i]!]!));
    const ce = (z: tf.Tensor2D) => tf.losses.softmaxCrossEntropy(y, z, wt, 0, tf.Reduction.SUM_BY_NONZERO_WEIGHTS);
    return tf.add(ce(l.image), ce(l.fused)) as tf.Scalar;
  };

  /** Pooled features averaged over the test views, rows x D. */
  const pooledTta = (idx: number[]): tf.Tensor2D => {
    const acc = new Float32Array(idx.length * D);
    const pairs = idx.flatMap((i, k) => Array.from({ length: testViews }, (_, v) => ({ k, r: t.records[i]!, v })));
    for (let s = 0; s < pairs.length; s += EVAL_BATCH) {
      const part = pairs.slice(s, s + EVAL_BATCH);
      const x = cache.read(
        part.map((p) => p.r),
        part.map((p) => p.v),
      );
      const f = tf.tidy(() => net.forward(tf.tensor4d(x, [part.length, ch, h, w])));
      const values = f.dataSync();
      f.dispose();
      part.forEach((p, j) => {
        for (let d = 0; d < D; d++) acc[p.k * D + d]! += values[j * D + d]! / testViews;
      });
    }
    return tf.tensor2d(acc, [idx.length, D]);
  };
  const predict = (idx: number[]): { image: Float64Array; fused: Float64Array } => {
    const [pi, pf] = tf.tidy(() => {
      const l = logits(pooledTta(idx), metaRows(idx));
      return [tf.softmax(l.image), tf.softmax(l.fused)];
    });
    const out = { image: Float64Array.from(pi.dataSync()), fused: Float64Array.from(pf.dataSync()) };
    tf.dispose([pi, pf]);
    return out;
  };
  const validationLoss = (idx: number[]) => tf.tidy(() => lossOf(logits(pooledTta(idx), metaRows(idx)), idx).dataSync()[0]!);

  const snapshot = () => [...topVars, ...headVars].map((v) => v.dataSync().slice() as Float32Array);
  let best = { loss: Infinity, epoch: -1, values: snapshot() };
  const losses: number[] = [];
  let trainSeconds = 0;
  let trained = 0;
  try {
    for (let epoch = 0; epoch < t.epochs; epoch++) {
      const order = [...fit];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const started = performance.now();
      for (let s = 0; s < order.length; s += BATCH) {
        const idx = order.slice(s, s + BATCH);
        const x = cache.read(
          idx.map((i) => t.records[i]!),
          idx.map(() => Math.floor(rand() * views)),
        );
        const seed = Math.floor(rand() * 2 ** 31);
        const { grads, value } = tf.variableGrads(() =>
          tf.tidy(() => {
            const pooled = tf.dropout(net.forward(tf.tensor4d(x, [idx.length, ch, h, w])), DROPOUT, undefined, seed) as tf.Tensor2D;
            return lossOf(logits(pooled, metaRows(idx)), idx);
          }),
        );
        value.dispose();
        const pick = (vars: tf.Variable[]) =>
          Object.fromEntries(vars.map((v) => [v.name, grads[v.name]!])) as unknown as Parameters<typeof optTop.applyGradients>[0];
        optTop.applyGradients(pick(topVars));
        optHead.applyGradients(pick(headVars));
        tf.dispose(Object.values(grads));
        // AdamW: the decay is applied to the weights directly, not through the gradient.
        tf.tidy(() => {
          for (const v of topVars) v.assign(tf.mul(v, 1 - LR_TOP * WEIGHT_DECAY));
          for (const v of headVars) v.assign(tf.mul(v, 1 - LR_HEAD * WEIGHT_DECAY));
        });
      }
      trainSeconds += (performance.now() - started) / 1000;
      trained += order.length;
      const loss = validationLoss(valid);
      losses.push(loss);
      if (loss < best.loss) best = { loss, epoch, values: snapshot() };
      await tick(epoch + 1, t.epochs, loss);
      if (epoch - best.epoch >= PATIENCE) break;
    }
    [...topVars, ...headVars].forEach((v, k) => v.assign(tf.tensor(best.values[k]!, v.shape)));
    const val = valid.length > 0 && C === 2 ? predict(valid) : null;
    const threshold = (p: Float64Array | undefined) =>
      p && C === 2
        ? youdenThreshold(
            valid.map((_, k) => p[k * 2 + 1]!),
            valid.map((i) => t.labels[i] === 1),
          )
        : 0.5;
    const out = t.test.length > 0 ? predict(t.test) : { image: new Float64Array(0), fused: new Float64Array(0) };
    const result: FoldResult = {
      image: out.image,
      fused: out.fused,
      thresholds: { image: threshold(val?.image), fused: threshold(val?.fused) },
      bestEpoch: best.epoch + 1,
      epochsRun: losses.length,
      validationLoss: losses,
      samplesPerSecond: trained / Math.max(trainSeconds, 1e-9),
    };
    if (t.keepModel) {
      const serial = (v: tf.Variable) => ({ shape: v.shape, values: Array.from(v.dataSync()) });
      const model = (params: HeadModel['params'], metaDim: number): HeadModel => ({ kind: 'linear', classes: C, imageDim: D, metaDim, params });
      result.heads = {
        image: model({ wImage: serial(head.wImage), bias: serial(head.bImage) }, 0),
        fused: model(
          t.metaDim > 0
            ? { wImage: serial(head.wFusedImage), wMeta: serial(head.wFusedMeta), bias: serial(head.bFused) }
            : { wImage: serial(head.wFusedImage), bias: serial(head.bFused) },
          t.metaDim,
        ),
      };
      result.weights = net.exportWeights();
    }
    return result;
  } finally {
    net.dispose();
    tf.dispose(headVars);
    optTop.dispose();
    optHead.dispose();
  }
}
