// Active-learning simulation on PAD (labels hidden): which "label next" strategy reaches a given AUC with the
// fewest labels. Each outer fold of the patient-grouped 5-fold split is a test set; its other folds are the pool.
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { loadDataset } from '../../src/main/ml/fusion/dataset.ts';
import { rocAuc } from '../../src/main/ml/fusion/metrics.ts';
import { encodeRows, fitEncoder } from '../../src/main/ml/fusion/tabular.ts';
import { fitPca, pcaTransform } from '../../src/main/ml/stats/pca.ts';
import { permutation, rngFrom } from '../../src/main/ml/stats/random.ts';
import { groupedStratifiedFolds } from '../../src/main/ml/stats/splits.ts';
import { withPadProject } from './padProject.ts';
import { labellingOrder } from '../../src/main/quality/labelNext.ts';
import type { LabelNextStrategy } from '../../src/shared/quality.ts';
import { LABEL_NEXT_STRATEGIES } from '../../src/shared/quality.ts';

const START = 60;
const STEP = 30;
const SEEDS = [1, 2, 3, 4, 5];
const FOLDS = 5;
/** Image features reduced as the product's fused model does, before the linear head. */
const IMAGE_DIM = 32;
const FIELDS = ['age', 'region', 'gender'];

interface Data {
  n: number;
  image: Float32Array[];
  meta: ReturnType<typeof loadDataset>['meta'];
  fields: { name: string; type: ReturnType<typeof loadDataset>['fields'][number]['type'] }[];
  y: Int32Array;
  groups: string[];
  shas: string[];
}

/** L2-regularised logistic regression by full-batch gradient descent with Adam on standardised columns. */
function fitLogistic(x: Float64Array[], y: number[], lambda = 1e-2, steps = 400): (row: Float64Array) => number {
  const d = x[0]!.length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const r of x) for (let j = 0; j < d; j++) mean[j]! += r[j]! / x.length;
  for (const r of x) for (let j = 0; j < d; j++) sd[j]! += (r[j]! - mean[j]!) ** 2 / x.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  const z = x.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!));
  const w = new Float64Array(d + 1);
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  for (let t = 1; t <= steps; t++) {
    const g = new Float64Array(d + 1);
    z.forEach((r, i) => {
      let s = w[d]!;
      for (let j = 0; j < d; j++) s += w[j]! * r[j]!;
      const e = 1 / (1 + Math.exp(-s)) - y[i]!;
      for (let j = 0; j < d; j++) g[j]! += (e * r[j]!) / z.length;
      g[d]! += e / z.length;
    });
    for (let j = 0; j < d; j++) g[j]! += lambda * w[j]!;
    for (let j = 0; j <= d; j++) {
      m[j] = 0.9 * m[j]! + 0.1 * g[j]!;
      v[j] = 0.999 * v[j]! + 0.001 * g[j]! ** 2;
      w[j]! -= (0.05 * (m[j]! / (1 - 0.9 ** t))) / (Math.sqrt(v[j]! / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  return (row) => {
    let s = w[d]!;
    for (let j = 0; j < d; j++) s += (w[j]! * (row[j]! - mean[j]!)) / sd[j]!;
    return 1 / (1 + Math.exp(-s));
  };
}

/** The fused linear model fitted on the labelled rows: PCA of the image features and the encoded metadata, concatenated. */
function fitFused(data: Data, train: number[]): (i: number) => number {
  const pca = fitPca(
    train.map((i) => data.image[i]!),
    IMAGE_DIM,
    1,
  );
  const enc = fitEncoder(
    data.fields,
    train.map((i) => data.meta[i]!),
  );
  const row = (i: number) => {
    const a = pcaTransform(pca, data.image[i]!);
    const b = encodeRows(enc, [data.meta[i]!]);
    const out = new Float64Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  const f = fitLogistic(
    train.map(row),
    train.map((i) => data.y[i]!),
  );
  return (i) => f(row(i));
}

/** AUC on the test rows after each round, for one strategy, one seed, one outer fold. */
function curve(data: Data, pool: number[], test: number[], strategy: LabelNextStrategy, seed: number): number[] {
  const rand = rngFrom(seed * 1000 + pool.length);
  const start = permutation(pool.length, rand)
    .slice(0, START)
    .map((k) => pool[k]!);
  const labelled = new Set(start);
  const aucs: number[] = [];
  for (;;) {
    const train = [...labelled];
    const model = fitFused(data, train);
    aucs.push(
      rocAuc(
        test.map(model),
        test.map((i) => data.y[i] === 1),
      ),
    );
    const rest = pool.filter((i) => !labelled.has(i));
    if (rest.length === 0) break;
    const probs = new Float64Array(rest.length * 2);
    rest.forEach((i, k) => {
      const p = model(i);
      probs[k * 2] = 1 - p;
      probs[k * 2 + 1] = p;
    });
    const u = new Float64Array(rest.length);
    rest.forEach((_, k) => (u[k] = 1 - Math.abs(probs[k * 2 + 1]! - probs[k * 2]!)));
    const order = labellingOrder(
      strategy,
      u,
      rest.map((i) => data.image[i]!),
      train.map((i) => data.image[i]!),
      seed,
    );
    for (const k of order.slice(0, STEP)) labelled.add(rest[k]!);
  }
  return aucs;
}

export async function activeBench(shared: string): Promise<object> {
  return withPadProject(shared, async (project) => {
    await extractFeatures(project, SMALL_BUILT_IN_BACKBONE);
    const ds = loadDataset(project, {
      label: 'diagnostic',
      positive: ['BCC', 'MEL', 'SCC'],
      fields: FIELDS,
      group: 'patient',
      folds: FOLDS,
      backbone: null,
      seed: 1,
    });
    const cols = FIELDS.map((f) => ds.fields.findIndex((x) => x.name === f));
    const data: Data = {
      n: ds.labels.length,
      image: Array.from({ length: ds.labels.length }, (_, i) => ds.image.subarray(i * ds.imageDim, (i + 1) * ds.imageDim)),
      meta: ds.meta.map((r) => cols.map((j) => r[j] ?? null)),
      fields: cols.map((j) => ds.fields[j]!),
      y: ds.labels,
      groups: ds.groups,
      shas: ds.shas,
    };
    const started = performance.now();
    const curves: Record<string, number[][]> = Object.fromEntries(LABEL_NEXT_STRATEGIES.map((s) => [s, []]));
    let counts: number[] = [];
    for (const seed of SEEDS) {
      const fold = groupedStratifiedFolds(
        Array.from({ length: data.n }, (_, i) => ({ group: data.groups[i]!, sha256: data.shas[i]!, label: data.y[i]! })),
        FOLDS,
        seed,
      );
      for (let f = 0; f < FOLDS; f++) {
        const test = fold.flatMap((g, i) => (g === f ? [i] : []));
        const pool = fold.flatMap((g, i) => (g !== f ? [i] : []));
        for (const s of LABEL_NEXT_STRATEGIES) curves[s]!.push(curve(data, pool, test, s, seed));
        counts = Array.from({ length: Math.ceil((pool.length - START) / STEP) + 1 }, (_, r) => Math.min(START + r * STEP, pool.length));
      }
    }
    // Pools differ by a few images across folds: curves are compared round by round (labels = START + round x STEP).
    const rounds = Math.min(...Object.values(curves).flatMap((cs) => cs.map((c) => c.length)));
    const mean = (s: string) =>
      Array.from({ length: rounds }, (_, r) => curves[s]!.reduce((a, c) => a + c[r]!, 0) / curves[s]!.length).map((x) => Math.round(x * 1000) / 1000);
    const table = Object.fromEntries(LABEL_NEXT_STRATEGIES.map((s) => [s, mean(s)]));
    const target = table.random![rounds - 1]!;
    const needed = Object.fromEntries(
      LABEL_NEXT_STRATEGIES.map((s) => {
        const r = table[s]!.findIndex((auc) => auc >= target - 0.005);
        return [s, r < 0 ? null : START + r * STEP];
      }),
    );
    return {
      task: 'PAD cancer vs not, age + region + gender + built-in MobileNetV2-0.35 features, linear fused head (PCA-32 + encoded metadata, L2 logistic)',
      protocol: `patient-grouped ${FOLDS}-fold: each fold the test set, the others the pool; start ${START} random labels, +${STEP} per round; mean over ${SEEDS.length} seeds x ${FOLDS} folds`,
      labels: counts.slice(0, rounds),
      aucByStrategy: table,
      randomAllLabelsAuc: target,
      labelsToReachRandomFinalAucMinus0005: needed,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  });
}
