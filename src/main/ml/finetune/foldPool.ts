/** Runs the view caching and the fold fits of a fine-tuning run on worker threads (one per core, at most two). */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DermFuseError } from '../../../shared/errors.ts';
import { spawnWorker } from '../../jobs/workers.ts';
import type { BackendInfo, BackendName } from '../tfjs/backend.ts';
import type { FinetuneReply, FinetuneRequest } from './finetuneWorker.ts';
import type { TopSpec } from './cut.ts';
import type { FoldResult, FoldTask } from './trainFold.ts';

export type CacheRequest = Extract<FinetuneRequest, { type: 'cache' }>;

/** Each fit runs single-threaded on wasm: two at once use both cores of a small desktop; more would share them. */
export const FOLD_WORKERS = Math.max(1, Math.min(2, os.availableParallelism()));

const cancelled = () => new DermFuseError('CANCELLED', 'Fine-tuning cancelled.');

function ask<T extends FinetuneReply['type']>(
  w: Worker,
  req: FinetuneRequest,
  want: T,
  onProgress: (done: number, total: number, loss: number | null) => void,
  signal: AbortSignal | undefined,
): Promise<Extract<FinetuneReply, { type: T }>> {
  if (signal?.aborted) return Promise.reject(cancelled());
  return new Promise((resolve, reject) => {
    const onMessage = (m: FinetuneReply) => {
      if (m.type === 'progress') onProgress(m.done, m.total, m.loss);
      else if (m.type === 'error') {
        done();
        // The worker's own refusals (an operation it cannot train) keep their code; anything else is a failure.
        reject(m.code && m.code !== 'INTERNAL' ? new DermFuseError(m.code, m.message) : new DermFuseError('INTERNAL', `Fine-tuning failed: ${m.message}`));
      } else if (m.type === want) {
        done();
        resolve(m as Extract<FinetuneReply, { type: T }>);
      }
    };
    const onError = (e: Error) => {
      done();
      reject(signal?.aborted ? cancelled() : new DermFuseError('INTERNAL', `Fine-tuning worker crashed: ${e.message}`));
    };
    const onExit = (code: number) => {
      done();
      reject(signal?.aborted ? cancelled() : new DermFuseError('INTERNAL', `Fine-tuning worker exited with code ${code}`));
    };
    const done = () => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
    w.postMessage(req);
  });
}

export class FoldPool {
  private readonly workers: Worker[];
  /** Cancel stops the workers at once (an epoch can take a minute): no file is left half-written that is not repaired. */
  private readonly onAbort = () => this.workers.forEach((w) => void w.terminate());

  constructor(
    size: number,
    private readonly signal?: AbortSignal,
  ) {
    this.workers = Array.from({ length: size }, () => spawnWorker('ml/finetune/finetuneWorker'));
    signal?.addEventListener('abort', this.onAbort);
  }

  /** Refuses (INVALID_ARGUMENT, naming the node) a top with an operation the workers cannot train. */
  async check(top: TopSpec, backend: BackendName | undefined): Promise<void> {
    await ask(this.workers[0]!, { type: 'check', top, backend }, 'checked', () => {}, this.signal);
  }

  async cache(req: CacheRequest, onProgress: (done: number, total: number) => void): Promise<{ count: number; dims: [number, number, number] }> {
    const r = await ask(this.workers[0]!, req, 'cached', (d, t) => onProgress(d, t), this.signal);
    return { count: r.count, dims: r.dims };
  }

  /** Fits every task (in parallel over the workers), reporting (task, epoch, epochs, validation loss). */
  async folds(
    dir: string,
    tasks: FoldTask[],
    backend: BackendName | undefined,
    onProgress: (task: number, epoch: number, epochs: number, loss: number | null) => void,
  ): Promise<{ results: FoldResult[]; backend: BackendInfo }> {
    const results: FoldResult[] = new Array(tasks.length);
    let info: BackendInfo | null = null;
    let next = 0;
    await Promise.all(
      this.workers.map(async (w) => {
        while (next < tasks.length) {
          const i = next++;
          const r = await ask(w, { type: 'fold', dir, task: tasks[i]!, backend }, 'fold', (d, t, loss) => onProgress(i, d, t, loss), this.signal);
          results[i] = r.result;
          info = r.backend;
        }
      }),
    );
    return { results, backend: info! };
  }

  async close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
