import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The worker threads of src/main, named by their path below src/main without the extension. Each is an entry of
 * the main build (electron.vite.config.ts), written to the same path below out/main.
 */
export const WORKERS = [
  'ml/backbone/embedWorker',
  'ml/cnn/trainCnnWorker',
  'ml/fusion/fusionWorker',
  'ml/finetune/finetuneWorker',
  'images/previewWorker',
] as const;
export type WorkerName = (typeof WORKERS)[number];

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * src/main when running from source (this file is src/main/jobs/workers.ts); out/main in a build, whose chunks are
 * all written at its top (chunkFileNames in electron.vite.config.ts), wherever this code lands.
 */
export const MAIN_ROOT = path.basename(here) === 'jobs' && fs.existsSync(path.join(here, 'workers.ts')) ? path.dirname(here) : here;

/**
 * Spawns a worker: its bundled `.js` in a build, else its `.ts` source through tsx (CLI, serve, tests).
 * DERMFUSE_BUILT_MAIN names a build of the same sources to take workers from (the test suite sets it when its build
 * is newer than every source file, to save compiling each worker).
 */
export function spawnWorker(name: WorkerName): Worker {
  const built = path.join(process.env.DERMFUSE_BUILT_MAIN ?? MAIN_ROOT, `${name}.js`);
  if (fs.existsSync(built)) return new Worker(built);
  return new Worker(path.join(MAIN_ROOT, 'jobs', 'workerBoot.mjs'), { workerData: { module: path.join(MAIN_ROOT, `${name}.ts`) } });
}
