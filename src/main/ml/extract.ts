import type { ExtractSummary, RuntimeInfo, RuntimeName } from '../../shared/jobs.ts';
import os from 'node:os';
import { DermFuseError } from '../../shared/errors.ts';
import type { ImportProblem } from '../../shared/types.ts';
import { runPool, throttleProgress, type ProgressFn } from '../jobs/progress.ts';
import { logger } from '../log.ts';
import type { Project } from '../project.ts';
import type { BackendName } from './backend.ts';
import { backboneKey } from './backboneSpec.ts';
import { decodeForBackbone } from './decode.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import { fitPca, pcaTransform } from './pca.ts';
import { modelCacheDir, resolveBackbone, type BackboneOptions } from './resolveBackbone.ts';
import { ortThreads, planRuntime, type RuntimePlan } from './runtime.ts';
import { EmbedPool } from './workerPool.ts';
import { repoOf } from '../db/open.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';

const log = logger('extract');

/** Images per inference call: large enough to amortise per-call overhead, small enough to keep latency and memory low. */
export const DEFAULT_BATCH_SIZE = 16;
/** Decoded batches waiting for a worker, per worker: decoding runs ahead so inference never waits for sharp. */
const QUEUE_DEPTH_PER_WORKER = 2;

export interface ExtractOptions extends BackboneOptions {
  /** ONNX Runtime or TF.js; absent: ONNX Runtime wherever the backbone runs on it. */
  runtime?: RuntimeName;
  backend?: BackendName;
  workers?: number;
  batchSize?: number;
  onProgress?: ProgressFn;
  progressIntervalMs?: number;
}

export type { ExtractSummary } from '../../shared/jobs.ts';

interface Item {
  sha256: string;
  path: string;
}

/**
 * Default worker count: one per core for single-threaded wasm/cpu; one for tfjs-node and ONNX Runtime, which
 * thread their own kernels.
 */
function defaultWorkers(backend: BackendName | undefined, runtime: RuntimeName | undefined): number {
  return backend === 'tensorflow' || runtime === 'onnx' ? 1 : Math.max(1, os.availableParallelism());
}

/**
 * Computes the embedding of every readable image of the project under a backbone, skipping those already cached
 * (so a re-run or a run after a kill only does what is missing), then stores a 2-D PCA map of all of them.
 */
export async function extractFeatures(project: Project, ref: string, opts: ExtractOptions = {}): Promise<ExtractSummary> {
  const started = performance.now();
  const progress = throttleProgress(opts.onProgress, opts.progressIntervalMs);
  const { spec, digest } = await resolveBackbone(ref, opts);
  const key = backboneKey(spec, digest);
  const store = new FeatureStore(project.db);

  const rows: Item[] = repoOf(project.db, ImagesRepo).distinctContents();
  const cachedSet = store.cachedHashes(key);
  const todo = rows.filter((r) => !cachedSet.has(r.sha256));
  const failures: ImportProblem[] = [];
  let extracted = 0;
  let pool: EmbedPool | null = null;
  let plan: RuntimePlan | null = null;
  let loadSeconds = 0;
  const summary = (): ExtractSummary => {
    const seconds = (performance.now() - started) / 1000;
    return {
      backbone: spec.name,
      key,
      dim: pool?.dim ?? store.backbone(key)?.dim ?? 0,
      images: rows.length,
      extracted,
      cached: rows.length - todo.length,
      failed: failures.length,
      failures,
      seconds,
      imagesPerSecond: extracted / seconds,
      loadSeconds,
      steadyImagesPerSecond: extracted / Math.max(seconds - loadSeconds, 1e-9),
      fused: pool?.fused ?? false,
      backend: pool?.ortVersion ? 'onnxruntime' : (pool?.backend?.backend ?? 'none'),
      backendInfo: pool?.backend ?? null,
      runtime: plan && pool ? runtimeInfo(plan, pool) : null,
      workers: pool?.size ?? 0,
      workerTensors: [...(pool?.numTensors ?? [])],
    };
  };
  if (todo.length === 0) {
    log.info(`all ${rows.length} images already have ${key} features`);
    return summary();
  }

  const loadStart = performance.now();
  plan = await planRuntime(spec, digest, opts.runtime, opts.cacheDir ?? modelCacheDir());
  const workers = opts.workers ?? defaultWorkers(opts.backend, plan.runtime);
  pool = await EmbedPool.start(spec, workers, opts.backend, plan.ort ? { ...plan.ort, threads: ortThreads(workers) } : undefined);
  loadSeconds = (performance.now() - loadStart) / 1000;
  store.registerBackbone(key, spec, pool.dim, digest);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const s = spec.preprocessing.inputSize;
  const batches: Item[][] = [];
  for (let i = 0; i < todo.length; i += batchSize) batches.push(todo.slice(i, i + batchSize));
  progress({ phase: 'features', done: 0, total: todo.length });

  try {
    // Each lane decodes a batch (sharp, off the JS thread) then waits for a worker; with more lanes than workers,
    // the next batches are decoded while the current ones are inferred.
    await runPool(
      batches,
      pool.size * QUEUE_DEPTH_PER_WORKER,
      async (batch) => {
        const ok: Item[] = [];
        const pixels = new Uint8Array(batch.length * s * s * 3);
        for (const item of batch) {
          try {
            pixels.set(await decodeForBackbone(item.path, spec.preprocessing), ok.length * s * s * 3);
            ok.push(item);
          } catch (err) {
            failures.push({ source: item.path, message: `cannot decode for ${spec.name}: ${(err as Error).message}` });
          }
        }
        if (opts.signal?.aborted || ok.length === 0) return;
        const vectors = await pool!.embed(pixels.subarray(0, ok.length * s * s * 3).slice(), ok.length);
        const dim = pool!.dim;
        store.put(
          key,
          ok.map((item, i) => ({ sha256: item.sha256, vector: vectors.slice(i * dim, (i + 1) * dim) })),
        );
        extracted += ok.length;
        progress({ phase: 'features', done: extracted + failures.length, total: todo.length });
      },
      opts.signal,
    );
  } finally {
    await pool.close();
  }
  if (opts.signal?.aborted) {
    throw new DermFuseError(
      'CANCELLED',
      `Feature extraction cancelled after ${extracted} of ${todo.length} images; they are kept and the next run continues from there.`,
    );
  }
  storePcaMap(store, key);
  return summary();
}

function runtimeInfo(plan: RuntimePlan, pool: EmbedPool): RuntimeInfo {
  const b = pool.backend;
  const detail =
    plan.runtime === 'onnx'
      ? `onnxruntime-node ${pool.ortVersion}, cpu, ${pool.size} worker(s) x ${ortThreads(pool.size)} thread(s)${plan.converted ? ', graph converted from TF.js' : ''}`
      : `TF.js ${b?.backend ?? '?'} ${b?.version ?? ''}${b?.backend === 'wasm' ? ` (SIMD ${b.simd ? 'on' : 'off'})` : ''}`;
  return { runtime: plan.runtime, detail, converted: plan.converted, notes: plan.notes };
}

/** The 2-D map the UI shows: first two principal components of every embedding under the key. */
export function storePcaMap(store: FeatureStore, key: string): void {
  const all = store.imageVectors(key);
  const unique = new Map(all.map((v) => [v.sha256, v.vector]));
  if (unique.size < 3) return;
  const shas = [...unique.keys()];
  const vecs = [...unique.values()];
  const model = fitPca(vecs, 2);
  store.putMap(
    key,
    'pca',
    shas.map((sha256, i) => {
      const p = pcaTransform(model, vecs[i]!);
      return { sha256, x: p[0]!, y: p[1] ?? 0 };
    }),
  );
}
