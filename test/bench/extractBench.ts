import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { initBackend } from '../../src/main/ml/backend.ts';
import { Embedder } from '../../src/main/ml/embedder.ts';
import { decodeForBackbone } from '../../src/main/ml/decode.ts';
import { extractFeatures } from '../../src/main/ml/extract.ts';
import { resolveBackbone } from '../../src/main/ml/resolveBackbone.ts';
import { scanImages } from '../../src/main/images/scan.ts';
import { Project } from '../../src/main/project.ts';
import { round } from './importBench.ts';

/** The peer a Python user would run: torchvision MobileNetV2 at a width multiplier, PIL decode included. */
function torchPeer(benchDir: string, imagesDir: string, width: string): { imgPerSecond: number | null; torch?: string; note?: string } {
  const script = path.join(benchDir, 'reference_extract_torch.py');
  const r = spawnSync('/usr/bin/python3', [script, imagesDir, width], { encoding: 'utf8' });
  if (r.status !== 0)
    return {
      imgPerSecond: null,
      note: `peer did not run (apt-get install -y python3-torchvision): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`,
    };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { img_per_s: number; torch: string };
  return { imgPerSecond: out.img_per_s, torch: out.torch };
}

/** A straightforward loop on the main thread: decode one batch, predict it, repeat (what the issue calls 36 img/s). */
async function naiveLoop(modelDir: string, imagesDir: string, limit: number): Promise<number> {
  await initBackend();
  const { spec } = await resolveBackbone(modelDir);
  const e = await Embedder.load(spec);
  const files = (await scanImages(imagesDir)).slice(0, limit);
  const s = spec.preprocessing.inputSize;
  const t = performance.now();
  for (let i = 0; i < files.length; i += 16) {
    const batch = files.slice(i, i + 16);
    const px = new Uint8Array(batch.length * s * s * 3);
    for (let j = 0; j < batch.length; j++) px.set(await decodeForBackbone(batch[j]!.path, spec.preprocessing), j * s * s * 3);
    e.embed(px, batch.length);
  }
  const rate = files.length / ((performance.now() - t) / 1000);
  e.dispose();
  return rate;
}

/**
 * Feature extraction over all PAD photos, decode included, for both shared MobileNets, beside the torch peer at the
 * matching width in the same run (torchvision has no MobileNet v1: v1 0.75 is set beside MobileNetV2 0.75).
 */
export async function extractBench(shared: string): Promise<object> {
  const images = path.join(shared, 'data/pad-ufes-20/images');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  const out: Record<string, object> = {};
  try {
    const project = Project.create(path.join(tmp, 'p')).project;
    await runImport(project, await planImport({ imagesDir: images }, project.dir));
    for (const [name, width] of [
      ['mobilenet_v2_0.35_224_tm', '0.35'],
      ['mobilenet_v1_0.75_224', '0.75'],
    ] as const) {
      const modelDir = path.join(shared, 'models', name);
      const rssBefore = process.memoryUsage().rss;
      const s = await extractFeatures(project, modelDir);
      const naive = await naiveLoop(modelDir, images, 160);
      const peer = torchPeer(path.join(shared, 'bench'), images, width);
      out[name] = {
        backend: s.backend,
        workers: s.workers,
        images: s.extracted,
        seconds: round(s.seconds),
        imagesPerSecond: round(s.imagesPerSecond, 1),
        loadSeconds: round(s.loadSeconds, 2),
        steadyImagesPerSecond: round(s.steadyImagesPerSecond, 1),
        fused: s.fused,
        naiveMainThreadLoopImagesPerSecond: round(naive, 1),
        peer: { name: `torchvision mobilenet_v2 width ${width}`, ...peer },
        ratioToPeer: peer.imgPerSecond ? round(s.imagesPerSecond / peer.imgPerSecond) : null,
        steadyRatioToPeer: peer.imgPerSecond ? round(s.steadyImagesPerSecond / peer.imgPerSecond) : null,
        ratioToIssue94ImgPerSecond: name.startsWith('mobilenet_v2') ? round(s.imagesPerSecond / 94) : undefined,
        steadyRatioToIssue94ImgPerSecond: name.startsWith('mobilenet_v2') ? round(s.steadyImagesPerSecond / 94) : undefined,
        workerTensorsAfterRun: s.workerTensors,
        mainRssGrowthMiB: round((process.memoryUsage().rss - rssBefore) / 2 ** 20, 1),
      };
    }
    project.close();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
