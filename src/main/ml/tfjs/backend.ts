import type { BackendInfo, BackendName } from '../../../shared/jobs.ts';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { logger } from '../../log.ts';

const log = logger('backend');
const requireHere = createRequire(import.meta.url);

export { BACKEND_NAMES } from '../../../shared/jobs.ts';
export type { BackendInfo, BackendName } from '../../../shared/jobs.ts';

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}

/** Version of an installed package, or 'unknown'. */
export function packageVersion(name: string): string {
  try {
    return (requireHere(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Folder of the wasm backend's .wasm files inside node_modules (also inside a packaged app: no network). */
export function wasmDir(): string {
  return path.join(path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

let active: BackendInfo | null = null;

/**
 * Picks the fastest backend that works here: tfjs-node (native TensorFlow) where it installed, else WebAssembly
 * (SIMD on, threads off under Node), else the plain JS cpu backend. `only` forces one (tests, benchmarks).
 */
export async function initBackend(only?: BackendName): Promise<BackendInfo> {
  if (active && (!only || active.backend === only)) return active;
  const fallbacks: string[] = [];
  const want = (b: BackendName): boolean => !only || only === b;

  if (want('tensorflow')) {
    try {
      // Optional dependency: absent where libtensorflow could not be downloaded. A variable keeps bundlers and
      // the type checker from requiring it.
      const tfjsNode = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ tfjsNode);
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        return (active = { backend: 'tensorflow', version: packageVersion('@tensorflow/tfjs-node'), fallbacks, multiThreaded: true });
      }
      fallbacks.push('tensorflow: @tensorflow/tfjs-node loaded but its backend did not start');
    } catch (err) {
      fallbacks.push(`tensorflow: @tensorflow/tfjs-node is not usable (${firstLine(err)})`);
    }
  }
  if (want('wasm')) {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(wasmDir());
      // Worker threads are how DermFuse uses several cores; the wasm backend's own threads need browser workers.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return (active = {
          backend: 'wasm',
          version: packageVersion('@tensorflow/tfjs-backend-wasm'),
          fallbacks,
          simd: true,
          threads: false,
          multiThreaded: false,
        });
      }
      fallbacks.push('wasm: the WebAssembly backend did not start');
    } catch (err) {
      fallbacks.push(`wasm: ${firstLine(err)}`);
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  if (fallbacks.length > 0) log.warn(`TensorFlow.js runs on the slow cpu backend: ${fallbacks.join('; ')}`);
  return (active = { backend: 'cpu', version: packageVersion('@tensorflow/tfjs-backend-cpu'), fallbacks, multiThreaded: false });
}

/** Like tf.tidy for results that are not tensors: every tensor made inside is freed, except those tf.keep()-ed. */
export function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

export { tf };
