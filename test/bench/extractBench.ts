import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { ImagesRepo } from '../../src/main/db/repos/imagesRepo.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { extractFeatures, type ExtractOptions } from '../../src/main/ml/backbone/extract.ts';
import { planRuntime } from '../../src/main/ml/backbone/runtime.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { exportBundle } from '../../src/main/ml/bundle/exportBundle.ts';
import { predictWithBundle } from '../../src/main/workflows/predict.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
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

/** The plain ONNX Runtime loop from ../shared/bench on the random-weight MobileNetV2-0.35 (same architecture). */
function ortPeer(shared: string, imagesDir: string): { imgPerSecond: number | null; note?: string } {
  const script = path.join(shared, 'bench', 'reference_extract_ort.mjs');
  const model = path.join(shared, 'models', 'mobilenet_v2_0.35_random_onnx', 'model.onnx');
  const r = spawnSync(process.execPath, [script, model, imagesDir, String(os.availableParallelism())], {
    encoding: 'utf8',
    cwd: path.resolve(import.meta.dirname, '../..'),
  });
  if (r.status !== 0) return { imgPerSecond: null, note: `peer did not run: ${(r.stderr || '').trim().split('\n').pop()}` };
  return { imgPerSecond: (JSON.parse(r.stdout.trim().split('\n').pop()!) as { img_per_s: number }).img_per_s };
}

type Peer = { imgPerSecond: number | null };
const ratio = (a: number, p: Peer) => (p.imgPerSecond ? round(a / p.imgPerSecond) : null);

/** One extraction of every PAD photo from an empty cache; the figures a peer timing its loop would report, and end to end. */
async function measure(project: Project, ref: string, opts: ExtractOptions) {
  const keyOf = (await extractFeatures(project, ref, { ...opts, runtime: opts.runtime })).key;
  project.db.prepare('DELETE FROM features WHERE backbone_key = ?').run(keyOf);
  const rssBefore = process.memoryUsage().rss;
  const s = await extractFeatures(project, ref, opts);
  project.db.prepare('DELETE FROM features WHERE backbone_key = ?').run(keyOf);
  return {
    runtime: s.runtime?.detail,
    notes: s.runtime?.notes.length ? s.runtime.notes : undefined,
    images: s.extracted,
    seconds: round(s.seconds),
    endToEndImagesPerSecond: round(s.imagesPerSecond, 1),
    loadSeconds: round(s.loadSeconds, 2),
    mapSeconds: round(s.mapSeconds, 2),
    steadyImagesPerSecond: round(s.steadyImagesPerSecond, 1),
    mainRssGrowthMiB: round((process.memoryUsage().rss - rssBefore) / 2 ** 20, 1),
  };
}

/**
 * Feature extraction of all 686 PAD photos (685 distinct files), decode included, on ONNX Runtime and on TF.js,
 * beside the peers in the same run: PyTorch at the matching width and the plain ONNX Runtime loop. Each figure is
 * a second extraction (the first warms the disk cache and, for TF.js models, converts the graph once); the cold
 * conversion is timed apart.
 */
export async function extractBench(shared: string): Promise<object> {
  const images = path.join(shared, 'data/pad-ufes-20/images');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  const cache = path.join(tmp, 'model-cache');
  const out: Record<string, unknown> = {};
  try {
    const project = Project.create(path.join(tmp, 'p')).project;
    await runImport(project, await planImport({ imagesDir: images }, project.dir));
    const torch: Record<string, Peer & { note?: string }> = {};
    for (const w of ['0.35', '0.75', '1.0']) torch[w] = torchPeer(path.join(shared, 'bench'), images, w);
    const ort = ortPeer(shared, images);
    out.peers = { [`torchvision mobilenet_v2 (img/s by width)`]: torch, 'plain onnxruntime-node loop, MobileNetV2-0.35 random weights': ort };

    const v2 = path.join(shared, 'models', 'mobilenet_v2_0.35_224_tm');
    const coldStart = performance.now();
    const converted = await planRuntime((await resolveBackbone(v2)).spec, (await resolveBackbone(v2)).digest, 'onnx', cache);
    const conversionSeconds = (performance.now() - coldStart) / 1000;
    const onnx = await measure(project, v2, { cacheDir: cache });
    const onnx1x2 = await measure(project, v2, { cacheDir: cache, workers: 1 });
    const tfjs = await measure(project, v2, { cacheDir: cache, runtime: 'tfjs' });
    out['mobilenet_v2_0.35 (TF.js model)'] = {
      conversionToOnnxSeconds: round(conversionSeconds, 2),
      converted: converted.converted,
      onnxRuntime: { ...onnx, ratioToTorch: ratio(onnx.steadyImagesPerSecond, torch['0.35']!), ratioToPlainOrtLoop: ratio(onnx.steadyImagesPerSecond, ort) },
      onnxRuntime1WorkerAllThreads: {
        ...onnx1x2,
        ratioToTorch: ratio(onnx1x2.steadyImagesPerSecond, torch['0.35']!),
        ratioToPlainOrtLoop: ratio(onnx1x2.steadyImagesPerSecond, ort),
      },
      tfjs: { ...tfjs, ratioToTorch: ratio(tfjs.steadyImagesPerSecond, torch['0.35']!) },
    };
    const v1 = path.join(shared, 'models', 'mobilenet_v1_0.75_224');
    const v1onnx = await measure(project, v1, { cacheDir: cache });
    const v1tfjs = await measure(project, v1, { cacheDir: cache, runtime: 'tfjs' });
    out['mobilenet_v1_0.75 (TF.js model; torch peer is v2 at width 0.75)'] = {
      onnxRuntime: { ...v1onnx, ratioToTorch: ratio(v1onnx.steadyImagesPerSecond, torch['0.75']!) },
      tfjs: { ...v1tfjs, ratioToTorch: ratio(v1tfjs.steadyImagesPerSecond, torch['0.75']!) },
    };
    const big = await measure(project, path.join(shared, 'models', 'mobilenet_v2_1.0_224_imagenet_onnx'), { cacheDir: cache });
    out['mobilenet_v2_1.0 ImageNet (ONNX model)'] = { onnxRuntime: { ...big, ratioToTorch: ratio(big.steadyImagesPerSecond, torch['1.0']!) } };
    out.predict = await predictBench(project, shared, cache);
    project.close();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

/** The predict figures alone (`npm run bench -- predict`), on a fresh project. */
export async function predictOnlyBench(shared: string): Promise<object> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  try {
    const project = Project.create(path.join(tmp, 'p')).project;
    try {
      return await predictBench(project, shared, path.join(tmp, 'model-cache'));
    } finally {
      project.close();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * `predict` of the 686 photos with a bundle of a fused model, end to end (workers, model load, decode, heads, CSV
 * rows): on the small built-in backbone (MobileNetV2-0.35) and on the ImageNet MobileNetV2-1.0 (the default's model).
 */
async function predictBench(project: Project, shared: string, cacheDir: string): Promise<object> {
  const pad = path.join(shared, 'data/pad-ufes-20');
  await runImport(project, await planImport({ imagesDir: path.join(pad, 'images'), metadataPath: path.join(pad, 'metadata.csv') }, project.dir));
  const out: Record<string, object> = {};
  for (const [name, ref] of [
    ['MobileNetV2-0.35, built in', SMALL_BUILT_IN_BACKBONE],
    ['mobilenet_v2_1.0 ImageNet (ONNX)', path.join(shared, 'models', 'mobilenet_v2_1.0_224_imagenet_onnx')],
  ] as const) {
    const x = await extractFeatures(project, ref, { cacheDir });
    const run = await trainRun(project, {
      label: 'diagnostic',
      positive: ['BCC', 'MEL', 'SCC'],
      fields: ['age', 'region', 'gender'],
      group: 'patient',
      folds: 5,
      backbone: x.key,
      seed: 1,
    });
    const bundle = path.join(path.dirname(project.dir), `bundle-${run.runId}`);
    await exportBundle(project, run.runId, 'fused', bundle);
    const t = performance.now();
    const s = await predictWithBundle(bundle, path.join(pad, 'images'), { metadataPath: path.join(pad, 'metadata.csv') });
    const seconds = (performance.now() - t) / 1000;
    out[name] = {
      images: s.images,
      failed: s.failed,
      runtime: s.runtime?.detail,
      seconds: round(seconds, 2),
      endToEndImagesPerSecond: round(s.images / seconds, 1),
      aim: 150,
    };
  }
  return out;
}

/**
 * Memory over a long extraction: 20,000 generated JPEGs (96x96, distinct), rows written directly (no thumbnails),
 * the small built-in backbone (MobileNetV2-0.35) on the default runtime; process RSS (main thread and workers together) sampled every
 * 100 ms, reported at each quarter of the run and at its peak.
 */
export async function extractMemoryBench(n = 20_000): Promise<object> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  try {
    const dir = path.join(tmp, 'images');
    fs.mkdirSync(dir);
    const project = Project.create(path.join(tmp, 'p')).project;
    const images = new ImagesRepo(project.db);
    const t0 = performance.now();
    const s = 96;
    const rows: { id: string; file: string; sha: string }[] = [];
    for (let i = 0; i < n; i += 64) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(64, n - i) }, async (_, k) => {
          const id = `GEN_${String(i + k).padStart(5, '0')}`;
          const px = Buffer.alloc(s * s * 3);
          let seed = i + k + 1;
          for (let p = 0; p < px.length; p++) {
            seed = (seed * 1103515245 + 12345) >>> 0;
            px[p] = ((p % (s * 3)) + (seed >>> 26)) & 0xff;
          }
          const bytes = await sharp(px, { raw: { width: s, height: s, channels: 3 } })
            .jpeg({ quality: 90 })
            .toBuffer();
          const file = path.join(dir, `${id}.jpg`);
          fs.writeFileSync(file, bytes);
          return { id, file, sha: createHash('sha256').update(bytes).digest('hex') };
        }),
      );
      rows.push(...batch);
    }
    project.db.transaction(() => {
      for (const r of rows)
        images.upsert({
          external_id: r.id,
          path: r.file,
          sha256: r.sha,
          bytes: 1,
          mtime_ms: 0,
          width: s,
          height: s,
          format: 'jpeg',
          thumb: null,
          status: 'ok',
          error: null,
        });
    })();
    const generateSeconds = (performance.now() - t0) / 1000;
    let peak = 0;
    const atQuarter: Record<string, number> = {};
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const mib = (b: number) => round(b / 2 ** 20, 0);
    const before = process.memoryUsage().rss;
    const summary = await extractFeatures(project, SMALL_BUILT_IN_BACKBONE, {
      progressIntervalMs: 0,
      onProgress: (p) => {
        const q = Math.floor((4 * p.done) / Math.max(p.total, 1));
        if (q > 0 && !(`${q * 25}%` in atQuarter)) atQuarter[`${q * 25}%`] = mib(process.memoryUsage().rss);
      },
    });
    clearInterval(timer);
    project.close();
    return {
      images: summary.extracted,
      runtime: summary.runtime?.detail,
      generateSeconds: round(generateSeconds, 1),
      seconds: round(summary.seconds, 1),
      imagesPerSecond: round(summary.imagesPerSecond, 1),
      rssBeforeMiB: mib(before),
      rssAtProgressMiB: atQuarter,
      peakRssMiB: mib(peak),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
