// Worker thread: caches the frozen trunk's views, and fine-tunes the top on one training set at a time.
import { parentPort } from 'node:worker_threads';
import { registerWasmGradients } from '../cnn/wasmGradients.ts';
import { initBackend, type BackendInfo, type BackendName } from '../tfjs/backend.ts';
import { DermFuseError, type ErrorCode } from '../../../shared/errors.ts';
import type { TopSpec } from './cut.ts';
import { buildTopNet } from './topNet.ts';
import { trainFold, type FoldResult, type FoldTask } from './trainFold.ts';
import { fillViewCache, ViewCache, type FillOptions } from './viewCache.ts';

export type FinetuneRequest =
  | ({ type: 'cache'; dir: string; images: { sha: string; path: string }[] } & Omit<FillOptions, 'signal' | 'onProgress'>)
  | { type: 'fold'; dir: string; task: FoldTask; backend?: BackendName }
  | { type: 'check'; top: TopSpec; backend?: BackendName };

export type FinetuneReply =
  | { type: 'progress'; done: number; total: number; loss: number | null }
  | { type: 'cached'; count: number; dims: [number, number, number] }
  | { type: 'fold'; result: FoldResult; backend: BackendInfo }
  | { type: 'checked' }
  | { type: 'error'; message: string; code?: ErrorCode };

const port = parentPort!;

async function handle(msg: FinetuneRequest): Promise<void> {
  if (msg.type === 'check') {
    // Building the top refuses, naming the node, any operation it cannot train.
    await initBackend(msg.backend);
    buildTopNet(msg.top).dispose();
    port.postMessage({ type: 'checked' } satisfies FinetuneReply);
    return;
  }
  if (msg.type === 'cache') {
    const { type: _t, dir, images, ...options } = msg;
    const cache = await fillViewCache(dir, images, {
      ...options,
      onProgress: (done, total) => port.postMessage({ type: 'progress', done, total, loss: null } satisfies FinetuneReply),
    });
    port.postMessage({ type: 'cached', count: cache.count, dims: cache.shape.dims } satisfies FinetuneReply);
    cache.close();
    return;
  }
  const backend = await initBackend(msg.backend);
  // A full convolution in the top (the stem, when the whole network trains) needs wasm's missing conv gradients.
  if (backend.backend === 'wasm') registerWasmGradients();
  const cache = ViewCache.open(msg.dir, null);
  try {
    const result = await trainFold(cache, msg.task, async (done, total, loss) => {
      port.postMessage({ type: 'progress', done, total, loss } satisfies FinetuneReply);
    });
    port.postMessage({ type: 'fold', result, backend } satisfies FinetuneReply);
  } finally {
    cache.close();
  }
}

// Cancelling terminates the worker (foldPool.ts): what it was writing to the view cache is repaired on the next open.
port.on('message', (msg: FinetuneRequest) => {
  handle(msg).catch((err: unknown) =>
    port.postMessage({
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
      code: err instanceof DermFuseError ? err.code : undefined,
    } satisfies FinetuneReply),
  );
});
