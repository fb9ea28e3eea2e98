// Worker thread: cross-validates and fits the image, metadata and fused models of one run.
import { parentPort } from 'node:worker_threads';
import { initBackend, tf, type BackendInfo, type BackendName } from '../tfjs/backend.ts';
import { crossValidate, type CrossValResult, type FusionInput } from './crossval.ts';
import { evaluate, type Evaluation } from './evaluate.ts';
import { permutationImportance, PERMUTATION_REPEATS, IMPORTANCE_RESAMPLES } from './importance.ts';
import type { RawImportance } from './train.ts';

export type FusionRequest = { type: 'run'; input: FusionInput; backend?: BackendName } | { type: 'stop' };
export type FusionReply =
  | { type: 'progress'; step: string; done: number; total: number }
  | { type: 'done'; cv: CrossValResult; evaluation: Evaluation; importance: RawImportance; backend: BackendInfo; numTensors: number }
  | { type: 'error'; message: string; cancelled?: boolean };

const port = parentPort!;
let stop = false;

class Stopped extends Error {}

port.on('message', (msg: FusionRequest) => {
  if (msg.type === 'stop') {
    stop = true;
    return;
  }
  run(msg.input, msg.backend).catch((err: unknown) =>
    port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err), cancelled: err instanceof Stopped } satisfies FusionReply),
  );
});

async function run(input: FusionInput, backendName?: BackendName): Promise<void> {
  const backend = await initBackend(backendName);
  const cv = await crossValidate(input, async (step, done, total) => {
    port.postMessage({ type: 'progress', step, done, total } satisfies FusionReply);
    // Between fits: let a 'stop' in.
    await new Promise((r) => setImmediate(r));
    if (stop) throw new Stopped('cancelled');
  });
  const t = performance.now();
  const evaluation = evaluate(cv, input.labels, input.classes, input.groups, input.seed);
  cv.timings.evaluation = (performance.now() - t) / 1000;
  const ti = performance.now();
  const { auc, rows } = permutationImportance(cv.oof.fused, cv.permuted, input.labels, input.classes.length, input.groups, input.seed + 77);
  cv.timings.importance = (cv.timings.importance ?? 0) + (performance.now() - ti) / 1000;
  const importance: RawImportance = { auc, rows, resamples: IMPORTANCE_RESAMPLES, repeats: PERMUTATION_REPEATS };
  // The shuffled predictions have served: they need not cross back to the main thread.
  cv.permuted = {};
  port.postMessage({ type: 'done', cv, evaluation, importance, backend, numTensors: tf.memory().numTensors } satisfies FusionReply);
}
