import type { PhaseTimings } from '../../../shared/jobs.ts';
import type { FieldValue } from '../../../shared/types.ts';
import { groupedStratifiedFolds } from '../stats/splits.ts';
import { fitHead, fitHeads, predictHead, type HeadData, type HeadKind, type HeadModel } from './heads.ts';
import { auc, youdenThreshold } from './metrics.ts';
import { fitPcaTf, pcaProject } from './pcaTf.ts';
import type { PcaModel } from '../stats/pca.ts';
import { encodeRows, fitEncoder, type FieldInput, type TabularEncoder } from './tabular.ts';
import { permutedFold, type PermutedPredictions } from './importance.ts';

/** Image features are reduced to this many whitened principal components (fitted per training fold). */
export const IMAGE_COMPONENTS = 64;
/** Inner folds on each outer training fold, for choosing the fusion. */
export const INNER_FOLDS = 3;
/** Weights of the image model in late fusion, tried by inner cross-validation. */
const LATE_WEIGHTS = [0.3, 0.5, 0.7];

import { MODES, type Mode } from '../../../shared/results.ts';

export { MODES, type Mode };

export interface FusionInput {
  n: number;
  imageDim: number;
  image: Float32Array;
  /** Widths of the backbones' blocks in `image`; absent: one block. Each block is reduced by its own PCA. */
  imageBlocks?: number[];
  fields: FieldInput[];
  meta: FieldValue[][];
  labels: Int32Array;
  classes: string[];
  groups: string[];
  shas: string[];
  folds: number;
  seed: number;
}

/** A fused model: which recipe, and what it needs. */
export type FusionChoice = { kind: 'concat' } | { kind: 'gating' } | { kind: 'mlp' } | { kind: 'late'; imageWeight: number };

/** The heads of the single-modality models, chosen by the same inner cross-validation as the fusion. */
export interface SingleHeads {
  image: 'linear' | 'mlp';
  metadata: 'linear' | 'mlp';
}

export function headsName(h: SingleHeads): string {
  return `image ${h.image}, metadata ${h.metadata}`;
}

export function fusionName(c: FusionChoice): string {
  return c.kind === 'late' ? `late(image ${c.imageWeight})` : c.kind;
}

/** Everything needed to apply the three models of a run to new data (what an exported bundle carries). */
export interface FinalModels {
  pca: PcaModel;
  encoder: TabularEncoder;
  image: HeadModel;
  metadata: HeadModel;
  fusion: FusionChoice;
  fused: HeadModel | null;
  /** Binary: thresholds on the positive probability (Youden on the training predictions). */
  thresholds: Record<Mode, number>;
}

/** Seconds spent per phase over the whole run. */
export type Timings = PhaseTimings;

const timings: Required<Timings> = { pca: 0, heads: 0, selection: 0, evaluation: 0, importance: 0 };
function timed<T>(phase: keyof Timings, fn: () => T): T {
  const t = performance.now();
  try {
    return fn();
  } finally {
    timings[phase] += (performance.now() - t) / 1000;
  }
}

export interface CrossValResult {
  timings: Timings;
  fold: Int32Array;
  /** Out-of-fold probabilities per mode, n × classes. */
  oof: Record<Mode, Float64Array>;
  /** Per fold and mode: binary decision threshold fitted on that fold's training rows. */
  thresholds: Record<Mode, number>[];
  /** The fusion chosen in each outer fold (by inner CV on its training rows). */
  fusionPerFold: string[];
  /** The single-modality heads chosen in each outer fold. */
  headsPerFold: string[];
  innerScores: Record<string, number>[];
  final: FinalModels;
  /** Out-of-fold fused probabilities with each block (field, image) shuffled among each fold's test rows. */
  permuted: PermutedPredictions;
}

export type Progress = (step: string, done: number, total: number) => Promise<void>;

function classWeights(labels: Int32Array, idx: number[], classes: number): Float32Array {
  const counts = new Array<number>(classes).fill(0);
  for (const i of idx) counts[labels[i]!]!++;
  const w = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) w[i] = counts[labels[i]!]! > 0 ? idx.length / (classes * counts[labels[i]!]!) : 0;
  return w;
}

/** Features of one training set: PCA of the image block and the metadata encoder, both fitted on `train` only. */
function prepare(input: FusionInput, train: number[], seed: number): { data: HeadData; pca: PcaModel; encoder: TabularEncoder } {
  const d = input.imageDim;
  const trainRows = new Float32Array(train.length * d);
  train.forEach((i, k) => trainRows.set(input.image.subarray(i * d, (i + 1) * d), k * d));
  const pca = timed('pca', () =>
    input.imageBlocks && input.imageBlocks.length > 1
      ? blockPca(trainRows, train.length, input.imageBlocks, seed)
      : fitPcaTf(trainRows, train.length, d, IMAGE_COMPONENTS, seed),
  );
  const image = timed('pca', () => pcaProject(pca, input.image, input.n));
  const encoder = fitEncoder(
    input.fields,
    train.map((i) => input.meta[i]!),
  );
  const meta = encodeRows(encoder, input.meta);
  return {
    pca,
    encoder,
    data: {
      n: input.n,
      image,
      imageDim: pca.k,
      meta: encoder.width > 0 ? meta : null,
      metaDim: encoder.width,
      labels: input.labels,
      classes: input.classes.length,
      weights: classWeights(input.labels, train, input.classes.length),
      groups: input.groups,
      shas: input.shas,
    },
  };
}

/**
 * Several backbones: a PCA per block (IMAGE_COMPONENTS each), put together as one block-diagonal model whose blocks
 * are scaled to the same mean variance, so no backbone outweighs another by the size of its features.
 */
function blockPca(rows: Float32Array, n: number, blocks: number[], seed: number): PcaModel {
  const d = blocks.reduce((a, b) => a + b, 0);
  const fits: { model: PcaModel; offset: number }[] = [];
  let offset = 0;
  for (const [b, width] of blocks.entries()) {
    const part = new Float32Array(n * width);
    for (let i = 0; i < n; i++) part.set(rows.subarray(i * d + offset, i * d + offset + width), i * width);
    fits.push({ model: fitPcaTf(part, n, width, IMAGE_COMPONENTS, seed + b), offset });
    offset += width;
  }
  const k = fits.reduce((a, f) => a + f.model.k, 0);
  const mean = new Float64Array(d);
  const components = new Float64Array(k * d);
  const variances: number[] = [];
  let row = 0;
  for (const { model, offset: o } of fits) {
    mean.set(model.mean, o);
    const meanVariance = Math.max(model.variances.reduce((a, v) => a + v, 0) / Math.max(model.k, 1), 1e-12);
    const scale = 1 / Math.sqrt(meanVariance);
    for (let c = 0; c < model.k; c++, row++) {
      for (let j = 0; j < model.dim; j++) components[row * d + o + j] = model.components[c * model.dim + j]! * scale;
      variances.push(model.variances[c]! / meanVariance);
    }
  }
  return { dim: d, k, mean, components, variances };
}

const only = (d: HeadData, block: 'image' | 'meta'): HeadData => (block === 'image' ? { ...d, meta: null } : { ...d, image: null });

export function mix(a: Float64Array, b: Float64Array, wa: number): Float64Array {
  return a.map((x, i) => wa * x + (1 - wa) * b[i]!);
}

function aucOf(probs: Float64Array, labels: Int32Array, idx: number[], classes: number): number {
  const sub = new Float64Array(idx.length * classes);
  idx.forEach((_, k) => {
    for (let c = 0; c < classes; c++) sub[k * classes + c] = probs[k * classes + c]!;
  });
  return auc({ probs: sub, classes, labels: Int32Array.from(idx.map((i) => labels[i]!)) });
}

/** The single-modality heads and the fused models the inner cross-validation compares (late fusion is scored apart). */
const SINGLE_CANDIDATES = ['image:linear', 'image:mlp', 'metadata:linear', 'metadata:mlp'] as const;
const FUSED_CANDIDATES: Exclude<FusionChoice, { kind: 'late' }>[] = [{ kind: 'concat' }, { kind: 'gating' }, { kind: 'mlp' }];

/** Progress steps of the inner selection: one per candidate. */
const SELECTION_STEPS = SINGLE_CANDIDATES.length + FUSED_CANDIDATES.length;

/** The head a fitted fusion trains: concatenation is the linear head on both blocks. */
const fusedHead = (choice: Exclude<FusionChoice, { kind: 'late' }>): HeadKind => (choice.kind === 'concat' ? 'linear' : choice.kind);

/** Fits the fused model that `choice` names on `train` rows; late fusion needs no fit. */
function fitFused(choice: FusionChoice, d: HeadData, train: number[], seed: number, refit = true): HeadModel | null {
  if (choice.kind === 'late' || !d.meta) return null;
  return fitHead(fusedHead(choice), d, train, seed, refit);
}

function predictFused(choice: FusionChoice, model: HeadModel | null, d: HeadData, idx: number[], pImage: Float64Array, pMeta: Float64Array): Float64Array {
  if (choice.kind === 'late' || !model) return mix(pImage, pMeta, choice.kind === 'late' ? choice.imageWeight : 0.5);
  return predictHead(model, d, idx);
}

/**
 * Chooses the single-modality heads (linear or MLP) and the fusion by inner grouped cross-validation on `train`
 * (never looking at the outer test rows). Late fusion mixes the chosen single-modality models.
 */
async function chooseFusion(
  input: FusionInput,
  d: HeadData,
  train: number[],
  seed: number,
  tick: () => Promise<void>,
): Promise<{ choice: FusionChoice; heads: SingleHeads; scores: Record<string, number> }> {
  if (!d.meta) {
    // Nothing to choose: the steps count as done, so the progress still ends at its total.
    for (let i = 0; i < SELECTION_STEPS; i++) await tick();
    return { choice: { kind: 'late', imageWeight: 1 }, heads: { image: 'linear', metadata: 'linear' }, scores: {} };
  }
  const folds = groupedStratifiedFolds(
    train.map((i) => ({ group: input.groups[i]!, sha256: input.shas[i]!, label: input.labels[i]! })),
    INNER_FOLDS,
    seed + 7,
  );
  const C = input.classes.length;
  const oof = new Map<string, Float64Array>(
    [...SINGLE_CANDIDATES, ...FUSED_CANDIDATES.map(fusionName)].map((name) => [name, new Float64Array(train.length * C)]),
  );
  const put = (name: string, vaPos: number[], p: Float64Array) => {
    const dst = oof.get(name)!;
    vaPos.forEach((k, r) => {
      for (let j = 0; j < C; j++) dst[k * C + j] = p[r * C + j]!;
    });
  };
  const inner = Array.from({ length: INNER_FOLDS }, (_, f) => {
    const vaPos = train.map((_, k) => k).filter((k) => folds[k] === f);
    return { tr: train.filter((_, k) => folds[k] !== f), vaPos, va: vaPos.map((k) => train[k]!) };
  });
  const trainSets = inner.map((s) => s.tr);
  // Selection-only models, each candidate's inner folds fitted together: early-stopped, not refitted.
  const score = async (name: string, models: HeadModel[]) => {
    models.forEach((m, f) => put(name, inner[f]!.vaPos, predictHead(m, d, inner[f]!.va)));
    await tick();
  };
  for (const name of SINGLE_CANDIDATES) {
    const [mode, kind] = name.split(':') as ['image' | 'metadata', 'linear' | 'mlp'];
    await score(name, fitHeads(kind, only(d, mode === 'image' ? 'image' : 'meta'), trainSets, seed, false));
  }
  for (const c of FUSED_CANDIDATES) {
    await score(fusionName(c), fitHeads(fusedHead(c), d, trainSets, seed, false));
  }
  const scores: Record<string, number> = {};
  for (const [name, probs] of oof) scores[name] = aucOf(probs, input.labels, train, C);
  const pick = (mode: 'image' | 'metadata'): 'linear' | 'mlp' => (scores[`${mode}:mlp`]! > scores[`${mode}:linear`]! ? 'mlp' : 'linear');
  const heads: SingleHeads = { image: pick('image'), metadata: pick('metadata') };
  const candidates: FusionChoice[] = [...FUSED_CANDIDATES];
  for (const w of LATE_WEIGHTS) {
    const c: FusionChoice = { kind: 'late', imageWeight: w };
    scores[fusionName(c)] = aucOf(mix(oof.get(`image:${heads.image}`)!, oof.get(`metadata:${heads.metadata}`)!, w), input.labels, train, C);
    candidates.push(c);
  }
  const best = candidates.reduce((a, b) => (scores[fusionName(b)]! > scores[fusionName(a)]! ? b : a));
  return { choice: best, heads, scores };
}

function thresholdFor(probs: Float64Array, labels: Int32Array, idx: number[], classes: number): number {
  if (classes !== 2) return 0.5;
  return youdenThreshold(
    idx.map((_, k) => probs[k * 2 + 1]!),
    idx.map((i) => labels[i] === 1),
  );
}

/** One mode set (image, metadata, fused) fitted on `train`, predicting `test`; also the in-sample thresholds. */
async function fitModes(input: FusionInput, train: number[], test: number[], seed: number, tick: () => Promise<void>) {
  const { data, pca, encoder } = prepare(input, train, seed);
  const t = performance.now();
  const { choice, heads, scores } = await chooseFusion(input, data, train, seed, tick);
  timings.selection += (performance.now() - t) / 1000;
  const imageModel = timed('heads', () => fitHead(heads.image, only(data, 'image'), train, seed));
  await tick();
  const metaModel = data.meta ? timed('heads', () => fitHead(heads.metadata, only(data, 'meta'), train, seed)) : null;
  await tick();
  const fusedModel = timed('heads', () => fitFused(choice, data, train, seed));
  await tick();
  const C = input.classes.length;
  const uniform = (idx: number[]) => new Float64Array(idx.length * C).fill(1 / C);
  const predictOn = (d: HeadData, idx: number[]) => {
    const pImage = predictHead(imageModel, d, idx);
    const pMeta = metaModel ? predictHead(metaModel, d, idx) : uniform(idx);
    return { image: pImage, metadata: pMeta, fused: predictFused(choice, fusedModel, d, idx, pImage, pMeta) };
  };
  const predictAll = (idx: number[]) => predictOn(data, idx);
  const inSample = predictAll(train);
  const thresholds = {
    image: thresholdFor(inSample.image, input.labels, train, C),
    metadata: thresholdFor(inSample.metadata, input.labels, train, C),
    fused: thresholdFor(inSample.fused, input.labels, train, C),
  };
  const permuted =
    test.length > 0 ? timed('importance', () => permutedFold(data, encoder, input.fields, test, (d, idx) => predictOn(d, idx).fused, seed + 31)) : null;
  return { pred: test.length > 0 ? predictAll(test) : null, permuted, thresholds, choice, heads, scores, pca, encoder, imageModel, metaModel, fusedModel };
}

/**
 * Patient-grouped stratified k-fold cross-validation of the three modes, with out-of-fold predictions for every
 * image, then the final models fitted on all rows (fusion again chosen by inner CV, on all rows).
 */
export async function crossValidate(input: FusionInput, progress: Progress): Promise<CrossValResult> {
  Object.assign(timings, { pca: 0, heads: 0, selection: 0, evaluation: 0, importance: 0 });
  const C = input.classes.length;
  const fold = Int32Array.from(
    groupedStratifiedFolds(
      input.labels.length ? Array.from(input.labels, (label, i) => ({ group: input.groups[i]!, sha256: input.shas[i]!, label })) : [],
      input.folds,
      input.seed,
    ),
  );
  const oof: Record<Mode, Float64Array> = {
    image: new Float64Array(input.n * C),
    metadata: new Float64Array(input.n * C),
    fused: new Float64Array(input.n * C),
  };
  const thresholds: Record<Mode, number>[] = [];
  const fusionPerFold: string[] = [];
  const headsPerFold: string[] = [];
  const innerScores: Record<string, number>[] = [];
  const permuted: PermutedPredictions = {};
  // Steps: per fold 3 fits + the inner candidates (each over the inner folds at once); the final fit the same once more.
  const perFit = 3 + SELECTION_STEPS;
  const total = perFit * (input.folds + 1);
  let done = 0;
  const tick = (label: string) => () => progress(label, ++done, total);
  for (let f = 0; f < input.folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < input.n; i++) (fold[i] === f ? test : train).push(i);
    const r = await fitModes(input, train, test, input.seed + f, tick(`fold ${f + 1} of ${input.folds}`));
    for (const m of ['image', 'metadata', 'fused'] as Mode[]) {
      test.forEach((i, k) => {
        for (let c = 0; c < C; c++) oof[m][i * C + c] = r.pred![m][k * C + c]!;
      });
    }
    for (const [block, repeats] of Object.entries(r.permuted!)) {
      permuted[block] ??= repeats.map(() => new Float64Array(input.n * C));
      repeats.forEach((p, rep) => test.forEach((i, k) => permuted[block]![rep]!.set(p.subarray(k * C, (k + 1) * C), i * C)));
    }
    thresholds.push(r.thresholds);
    fusionPerFold.push(fusionName(r.choice));
    headsPerFold.push(headsName(r.heads));
    innerScores.push(r.scores);
  }
  const all = Array.from({ length: input.n }, (_, i) => i);
  const fin = await fitModes(input, all, [], input.seed + 1000, tick('final models on all images'));
  return {
    timings: { ...timings },
    fold,
    oof,
    thresholds,
    fusionPerFold,
    headsPerFold,
    innerScores,
    permuted,
    final: {
      pca: fin.pca,
      encoder: fin.encoder,
      image: fin.imageModel,
      metadata: fin.metaModel ?? fin.imageModel,
      fusion: fin.choice,
      fused: fin.fusedModel,
      thresholds: fin.thresholds,
    },
  };
}
