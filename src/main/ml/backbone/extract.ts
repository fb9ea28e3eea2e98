import type { ExtractSummary, RuntimeName } from '../../../shared/jobs.ts';
import { DermFuseError } from '../../../shared/errors.ts';
import type { ImportProblem } from '../../../shared/types.ts';
import { throttleProgress, type ProgressFn } from '../../jobs/progress.ts';
import { logger } from '../../log.ts';
import type { Project } from '../../project.ts';
import type { BackendName } from '../tfjs/backend.ts';
import { backboneKey } from '../input/spec.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';
import { allFinite } from '../stats/linalg.ts';
import { fitPca, pcaTransform } from '../stats/pca.ts';
import { resolveBackbone, type BackboneOptions } from './resolve.ts';
import { checkRuntimeFits, type RuntimePlan } from './runtime.ts';
import { DEFAULT_BATCH_SIZE, embedInBatches, runtimeInfo, startEmbedding } from './embedFiles.ts';
import { EmbedPool } from './workerPool.ts';
import { repoOf } from '../../db/open.ts';
import { ImagesRepo } from '../../db/repos/imagesRepo.ts';

const log = logger('extract');

export interface ExtractOptions extends BackboneOptions {
  /** ONNX Runtime or TF.js; absent: ONNX Runtime wherever the backbone runs on it. */
  runtime?: RuntimeName;
  backend?: BackendName;
  workers?: number;
  batchSize?: number;
  onProgress?: ProgressFn;
  progressIntervalMs?: number;
}

export type { ExtractSummary } from '../../../shared/jobs.ts';

interface Item {
  sha256: string;
  path: string;
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
  const store = repoOf(project.db, FeatureStore);

  const rows: Item[] = repoOf(project.db, ImagesRepo).distinctContents();
  const cachedSet = store.cachedHashes(key);
  const todo = rows.filter((r) => !cachedSet.has(r.sha256));
  const failures: ImportProblem[] = [];
  let extracted = 0;
  let pool: EmbedPool | null = null;
  let plan: RuntimePlan | null = null;
  let loadSeconds = 0;
  let mapSeconds = 0;
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
      mapSeconds,
      steadyImagesPerSecond: extracted / Math.max(seconds - loadSeconds - mapSeconds, 1e-9),
      fused: pool?.fused ?? false,
      backend: pool?.ortVersion ? 'onnxruntime' : (pool?.backend?.backend ?? 'none'),
      backendInfo: pool?.backend ?? null,
      runtime: plan && pool ? runtimeInfo(plan, pool) : null,
      workers: pool?.size ?? 0,
      workerTensors: [...(pool?.numTensors ?? [])],
    };
  };
  // Checked before the cache answers, so a wrong request fails the same way whether or not anything is left to do.
  checkRuntimeFits(spec, opts.runtime);
  if (todo.length === 0) {
    log.info(`all ${rows.length} images already have ${key} features`);
    return summary();
  }

  const loadStart = performance.now();
  ({ pool, plan } = await startEmbedding(spec, digest, opts));
  loadSeconds = (performance.now() - loadStart) / 1000;
  const knownKey = store.backbone(key) !== undefined;
  store.registerBackbone(key, spec, pool.dim, digest);
  progress({ phase: 'features', done: 0, total: todo.length });
  // What this extraction stored, and the vector that was not finite: a failure with garbage discards the first.
  const stored: string[] = [];
  let garbage = null as DermFuseError | null;
  try {
    await embedInBatches(
      pool,
      spec,
      todo,
      opts.batchSize ?? DEFAULT_BATCH_SIZE,
      (ok, vectors) => {
        if (garbage) throw garbage;
        const dim = pool!.dim;
        const batch = ok.map((item, i) => ({ sha256: item.sha256, vector: vectors.slice(i * dim, (i + 1) * dim) }));
        const bad = batch.findIndex((r) => !allFinite(r.vector));
        if (bad >= 0) throw (garbage = nonFinite(spec.name, ok[bad]!.path));
        store.put(key, batch);
        stored.push(...batch.map((r) => r.sha256));
        extracted += ok.length;
        progress({ phase: 'features', done: extracted + failures.length, total: todo.length });
      },
      (item, message) => failures.push({ source: item.path, message }),
      opts.signal,
    );
  } catch (err) {
    // Garbage: nothing of this extraction is kept (a cancel or a crash keeps its batches, to resume from).
    if (garbage) {
      store.discard(key, stored, !knownKey);
      log.warn(`discarded ${stored.length} vectors of ${key}: ${garbage.message}`);
    }
    throw garbage ?? err;
  } finally {
    await pool.close();
  }
  if (opts.signal?.aborted) {
    throw new DermFuseError(
      'CANCELLED',
      `Feature extraction cancelled after ${extracted} of ${todo.length} images; they are kept and the next run continues from there.`,
    );
  }
  const mapStart = performance.now();
  storePcaMap(store, key);
  mapSeconds = (performance.now() - mapStart) / 1000;
  return summary();
}

/** The error of a backbone whose output for an image is not finite (its preprocessing or weights overflow). */
function nonFinite(backbone: string, image: string): DermFuseError {
  return new DermFuseError(
    'INVALID_VALUE',
    `Backbone ${backbone} gave non-finite features (NaN or infinity) for ${image}: its preprocessing (sidecar, --mean/--std/--range) or weights are broken. Nothing of this extraction was kept.`,
  );
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
