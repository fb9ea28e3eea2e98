import type { Progress } from '../../shared/types.ts';

export type ProgressFn = (p: Progress) => void;

/** Passes on at most one progress event per `ms`, but always the last one (done === total). */
export function throttleProgress(fn: ProgressFn | undefined, ms = 200): ProgressFn {
  let last = 0;
  return (p) => {
    if (!fn) return;
    const now = Date.now();
    if (p.done >= p.total || now - last >= ms) {
      last = now;
      fn(p);
    }
  };
}

/** Runs `task` over `items` with at most `limit` in flight, stopping early when `signal` aborts. */
export async function runPool<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
