import type { RuntimeInfo, RuntimeName } from '../../../shared/jobs.ts';
import { runPool } from '../../jobs/progress.ts';
import type { BackendName } from '../tfjs/backend.ts';
import type { BackboneSpec } from '../../../shared/backbone.ts';
import { decodeForBackbone } from '../input/decode.ts';
import { modelCacheDir } from './resolve.ts';
import { ortThreads, planRuntime, type RuntimePlan } from './runtime.ts';
import { EmbedPool } from './workerPool.ts';
import os from 'node:os';

/** Images per inference call, and decoded batches waiting per worker (decoding runs ahead of inference). */
export const DEFAULT_BATCH_SIZE = 16;
const QUEUE_DEPTH_PER_WORKER = 2;

/** ONNX Runtime sessions at most: each holds the model, and beyond this the cores go to each session's threads. */
const MAX_ORT_WORKERS = 4;

/**
 * Default worker count: one per core for single-threaded wasm/cpu; one for tfjs-node, which threads itself; for
 * ONNX Runtime one per core up to four, the cores shared among them as intra-op threads. Measured on 2 cores (PAD,
 * MobileNetV2-0.35): 2 workers x 1 thread embed 5-25% faster than 1 x 2, as one infers while the other is fed.
 */
export function defaultWorkers(backend: BackendName | undefined, runtime: RuntimeName | undefined): number {
  const cores = Math.max(1, os.availableParallelism());
  if (runtime === 'onnx') return Math.min(cores, MAX_ORT_WORKERS);
  return backend === 'tensorflow' ? 1 : cores;
}

export interface EmbedderOptions {
  runtime?: RuntimeName;
  backend?: BackendName;
  workers?: number;
  cacheDir?: string;
}

/** Picks the runtime (see planRuntime) and starts the workers with the backbone loaded. */
export async function startEmbedding(spec: BackboneSpec, digest: string, opts: EmbedderOptions): Promise<{ pool: EmbedPool; plan: RuntimePlan }> {
  const plan = await planRuntime(spec, digest, opts.runtime, opts.cacheDir ?? modelCacheDir());
  const workers = opts.workers ?? defaultWorkers(opts.backend, plan.runtime);
  const pool = await EmbedPool.start(spec, workers, opts.backend, plan.ort ? { ...plan.ort, threads: ortThreads(workers) } : undefined);
  return { pool, plan };
}

export function runtimeInfo(plan: RuntimePlan, pool: EmbedPool): RuntimeInfo {
  const b = pool.backend;
  const detail =
    plan.runtime === 'onnx'
      ? `onnxruntime-node ${pool.ortVersion}, cpu, ${pool.size} worker(s) x ${ortThreads(pool.size)} thread(s)${plan.converted ? ', graph converted from TF.js' : ''}`
      : `TF.js ${b?.backend ?? '?'} ${b?.version ?? ''}${b?.backend === 'wasm' ? ` (SIMD ${b.simd ? 'on' : 'off'})` : ''}`;
  return { runtime: plan.runtime, detail, converted: plan.converted, notes: plan.notes };
}

/**
 * Decodes and embeds files in batches, decoding the next batches while the current ones run. Calls `onBatch` with
 * each batch's items that decoded and their vectors (n x dim), and `onFailure` for a file that would not decode.
 */
export async function embedInBatches<T extends { path: string }>(
  pool: EmbedPool,
  spec: BackboneSpec,
  items: readonly T[],
  batchSize: number,
  onBatch: (ok: T[], vectors: Float32Array) => void,
  onFailure: (item: T, message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const s = spec.preprocessing.inputSize;
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
  await runPool(
    batches,
    pool.size * QUEUE_DEPTH_PER_WORKER,
    async (batch) => {
      const ok: T[] = [];
      const pixels = new Uint8Array(batch.length * s * s * 3);
      // The batch's images decode together: sharp spreads them over libuv's threads while a worker infers.
      const decoded = await Promise.allSettled(batch.map((item) => decodeForBackbone(item.path, spec.preprocessing)));
      decoded.forEach((d, i) => {
        const item = batch[i]!;
        if (d.status === 'fulfilled') {
          pixels.set(d.value, ok.length * s * s * 3);
          ok.push(item);
        } else onFailure(item, `cannot decode for ${spec.name}: ${(d.reason as Error).message}`);
      });
      if (signal?.aborted || ok.length === 0) return;
      onBatch(ok, await pool.embed(pixels.subarray(0, ok.length * s * s * 3).slice(), ok.length));
    },
    signal,
  );
}

/**
 * Embeds files with one backbone into columns of a row-major matrix: file `item.i`'s vector fills row item.i from
 * column `offset`, `rowWidth` wide (several backbones' features side by side, as a run concatenated them). Loads
 * the backbone in workers and closes them. Returns the backbone's width (0 when no file decoded) and the runtime.
 */
export async function embedColumns(
  spec: BackboneSpec,
  digest: string,
  items: readonly { path: string; i: number }[],
  out: Float32Array,
  rowWidth: number,
  offset: number,
  onFailure: (item: { path: string; i: number }, message: string) => void,
  opts: EmbedderOptions & { signal?: AbortSignal },
): Promise<{ width: number; runtime: RuntimeInfo }> {
  const { pool, plan } = await startEmbedding(spec, digest, opts);
  let width = 0;
  try {
    const runtime = runtimeInfo(plan, pool);
    await embedInBatches(
      pool,
      spec,
      items,
      DEFAULT_BATCH_SIZE,
      (ok, v) => {
        width = v.length / ok.length;
        if (offset + width > rowWidth) throw new Error(`${spec.name} gives ${width} features, more than the model's ${rowWidth - offset} left`);
        ok.forEach((item, k) => out.set(v.subarray(k * width, (k + 1) * width), item.i * rowWidth + offset));
      },
      onFailure,
      opts.signal,
    );
    return { width, runtime };
  } finally {
    await pool.close();
  }
}
