import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { trainBackbone } from '../../src/main/ml/cnn/trainBackbone.ts';
import { Project } from '../../src/main/project.ts';
import { round } from './importBench.ts';

/** Photos trained on in the benchmark: enough for a stable rate, few enough that the cpu epoch ends in minutes. */
const IMAGES = 200;

/**
 * Training speed of the small CNN (96 px, one epoch) on wasm, which needs DermFuse's gradient kernels, beside the
 * cpu backend that has them natively.
 */
export async function cnnBench(padDir: string): Promise<object> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  try {
    const subset = path.join(tmp, 'images');
    fs.mkdirSync(subset);
    for (const f of fs.readdirSync(path.join(padDir, 'images')).sort().slice(0, IMAGES)) fs.copyFileSync(path.join(padDir, 'images', f), path.join(subset, f));
    const project = Project.create(path.join(tmp, 'p')).project;
    await runImport(project, await planImport({ imagesDir: subset, metadataPath: path.join(padDir, 'metadata.csv') }, project.dir));
    const out: Record<string, unknown> = {};
    for (const backend of ['wasm', 'cpu'] as const) {
      const s = await trainBackbone(project, { epochs: 1, name: `bench-${backend}`, backend, seed: 1 });
      out[backend] = {
        backend: s.backend?.backend,
        trainImages: s.trainImages,
        trainImagesPerSecond: round(s.trainImagesPerSecond, 2),
        seconds: round(s.seconds, 1),
      };
    }
    const w = out.wasm as { trainImagesPerSecond: number };
    const c = out.cpu as { trainImagesPerSecond: number };
    out.wasmSpeedupOverCpu = round(w.trainImagesPerSecond / c.trainImagesPerSecond, 2);
    project.close();
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
