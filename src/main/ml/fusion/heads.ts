import { tf } from '../tfjs/backend.ts';
import { groupedStratifiedFolds } from '../stats/splits.ts';
import { NEWTON_MAX_UNKNOWNS, solveLinear } from './linearNewton.ts';
import { batchedShape, block, L2_IMAGE, L2_META, logits, trainHeads, type TrainSet } from './headTraining.ts';

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

/** Early stopping's and a convex head's epoch limit. */
const MAX_EPOCHS = 300;

export { L2_IMAGE, L2_META };

/**
 * Fits a head. Linear heads are convex (L2 softmax regression): they train to convergence, whose optimum is
 * unique, so tiny changes in the features cannot swing the result. Gating and MLP heads are not convex: they find their
 * number of epochs by early stopping on a fifth of the patients held out, then (with `refit`) train again on all
 * the given rows for that many epochs. Selection-only models skip the refit.
 */
export function fitHead(kind: HeadKind, d: HeadData, idx: number[], seed: number, refit = true): HeadModel {
  return fitHeads(kind, d, [idx], seed, refit)[0]!;
}

/**
 * One head per row set, trained together: the same seed, initial weights and stopping rules as `fitHead` on each set
 * alone (an MLP's dropout draws differ: headTraining.ts). A set too small to hold patients out for early stopping
 * trains for the full number of epochs, as it did alone.
 */
export function fitHeads(kind: HeadKind, d: HeadData, sets: number[][], seed: number, refit = true): HeadModel[] {
  const model = (params: Record<string, SerialTensor>): HeadModel => ({ kind, classes: d.classes, imageDim: d.imageDim, metaDim: d.metaDim, params });
  if (kind === 'linear') {
    const columns = (d.image ? d.imageDim : 0) + (d.meta ? d.metaDim : 0) + 1;
    if (columns * d.classes <= NEWTON_MAX_UNKNOWNS) return sets.map((idx) => linearByNewton(d, idx));
    return trainHeads(
      kind,
      d,
      sets.map((train) => ({ train, val: null, epochs: MAX_EPOCHS * 2 })),
      seed,
      true,
    ).map((r) => model(r.params));
  }
  const probes: TrainSet[] = sets.map((idx) => {
    const folds = groupedStratifiedFolds(
      idx.map((i) => ({ group: d.groups[i]!, sha256: d.shas[i]!, label: d.labels[i]! })),
      5,
      seed,
    );
    const val = idx.filter((_, k) => folds[k] === 0);
    return { train: idx.filter((_, k) => folds[k] !== 0), val: val.length > 0 ? val : null, epochs: MAX_EPOCHS };
  });
  const probed = trainHeads(kind, d, probes, seed);
  if (!refit) return probed.map((r) => model(r.params));
  return trainHeads(
    kind,
    d,
    sets.map((train, f) => ({ train, val: null, epochs: Math.max(probed[f]!.bestEpochs, 10) })),
    seed,
  ).map((r) => model(r.params));
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
  const thetaRows = (from: number, rowsOf: number): SerialTensor => ({
    shape: [rowsOf, C],
    values: Array.from(theta.subarray(from * C, (from + rowsOf) * C), Math.fround),
  });
  const params: Record<string, SerialTensor> = {};
  if (d.image) params.wImage = thetaRows(0, di);
  if (d.meta) params.wMeta = thetaRows(di, dm);
  params.bias = { shape: [C], values: Array.from(theta.subarray((p - 1) * C), Math.fround) };
  return { kind: 'linear', classes: C, imageDim: d.imageDim, metaDim: d.metaDim, params };
}

/** Class probabilities (n × classes, row-major) of the given rows. */
export function predictHead(m: HeadModel, d: Pick<HeadData, 'image' | 'meta' | 'imageDim' | 'metaDim'>, idx: number[]): Float64Array {
  const values = tf.tidy(() => {
    const p: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(m.params)) p[k] = tf.tensor(v.values, batchedShape(v.shape));
    const image = m.params.wImage && d.image ? block(d.image, d.imageDim, idx, 1) : null;
    const meta = (m.params.wMeta || m.params.wGate) && d.meta ? block(d.meta, d.metaDim, idx, 1) : null;
    return tf.softmax(logits(m.kind, p, image, meta));
  });
  const out = Float64Array.from(values.dataSync());
  values.dispose();
  return out;
}
