// `npm run bench -- finetune-memory`: peak RSS of a whole fine-tuned run (extraction, frozen run, view caching,
// training, tuned features) on 686 and on 10,000 generated photos with the same settings, to show memory stays flat
// as images grow. The photos are 128 px noise tinted by class; metadata (age, region, gender) is imported from a CSV
// through the real import. One view and one epoch per fold keep the 10,000-photo run near 20 minutes on 2 cores:
// memory is per batch, so neither changes what grows with the number of images. FINETUNE_MEMORY_SIZES=686,10000.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { finetuneRun } from '../../src/main/ml/finetune/finetuneRun.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { Project } from '../../src/main/project.ts';
import { rng } from '../fixtures/generate.ts';

const CLASSES = ['ACK', 'BCC', 'MEL', 'NEV', 'SCC', 'SEK'];
const SITES = ['FACE', 'BACK', 'CHEST', 'ARM', 'FOREARM', 'HAND', 'NECK', 'NOSE'];
const SIZE = 128;
const mib = (b: number) => Math.round(b / 2 ** 20);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** `n` distinct photos (gaussian noise, tinted by class) and a PAD-style CSV: two photos per patient. */
async function generatePhotos(dir: string, n: number): Promise<{ images: string; csv: string }> {
  const images = path.join(dir, 'images');
  fs.mkdirSync(images, { recursive: true });
  const rand = rng(7);
  const lines = ['patient_id,lesion_id,age,gender,region,diagnostic,img_id'];
  for (let i = 0; i < n; i += 32) {
    const batch = Array.from({ length: Math.min(32, n - i) }, (_, k) => {
      const id = i + k;
      const patient = Math.floor(id / 2);
      const c = patient % CLASSES.length;
      const file = `PAT_${patient}_${id}_${id}.jpg`;
      const site = SITES[Math.floor(rand() * SITES.length)]!;
      lines.push(`PAT_${patient},${id},${Math.round(20 + rand() * 60 + c * 3)},${rand() < 0.5 ? 'FEMALE' : 'MALE'},${site},${CLASSES[c]},${file}`);
      return { file, c };
    });
    await Promise.all(
      batch.map(({ file, c }) =>
        sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 40 } } })
          .linear([1, 1 - c * 0.08, 1 - c * 0.05], [c * 12, 0, c * 6])
          .jpeg({ quality: 85 })
          .toFile(path.join(images, file)),
      ),
    );
  }
  const csv = path.join(dir, 'metadata.csv');
  fs.writeFileSync(csv, `${lines.join('\n')}\n`);
  return { images, csv };
}

async function measure(shared: string, n: number): Promise<object> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  const project = Project.create(path.join(tmp, 'p')).project;
  try {
    const t0 = performance.now();
    const { images, csv } = await generatePhotos(path.join(tmp, 'photos'), n);
    await runImport(project, await planImport({ imagesDir: images, metadataPath: csv }, project.dir));
    const prepareSeconds = (performance.now() - t0) / 1000;
    let phase = 'extract';
    const phasePeakMiB: Record<string, number> = {};
    const sample = () => {
      const rss = mib(process.memoryUsage().rss);
      phasePeakMiB[phase] = Math.max(phasePeakMiB[phase] ?? 0, rss);
    };
    const rssBeforeMiB = mib(process.memoryUsage().rss);
    const timer = setInterval(sample, 250);
    try {
      await extractFeatures(project, path.join(shared, 'models', 'mobilenet_v2_1.0_224_imagenet_onnx', 'model.onnx'));
      const r = await finetuneRun(
        project,
        { label: 'diagnostic', positive: ['BCC', 'MEL', 'SCC'], fields: ['age', 'region', 'gender'], group: 'patient', folds: 3, backbone: null, seed: 1 },
        {
          views: 1,
          epochs: 1,
          onProgress: (p) => {
            if (p.phase !== phase) process.stderr.write(`bench: finetune-memory ${n} ${p.phase}…\n`);
            phase = p.phase;
            sample();
          },
        },
      );
      sample();
      return {
        images: r.images,
        settings: '3 folds, 1 view, 1 epoch, default cut',
        prepareSeconds: round(prepareSeconds, 1),
        runSeconds: round(r.seconds, 1),
        cacheSeconds: round(r.finetune.cacheSeconds, 1),
        trainSeconds: round(r.finetune.trainSeconds, 1),
        rssBeforeMiB,
        peakRssMiB: Math.max(...Object.values(phasePeakMiB)),
        phasePeakMiB,
        imageAuc: round(r.modes.image.auc),
        backend: r.backend,
      };
    } finally {
      clearInterval(timer);
    }
  } finally {
    if (project.db.open) project.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function finetuneMemoryBench(shared: string): Promise<object> {
  const sizes = (process.env.FINETUNE_MEMORY_SIZES ?? '686,10000').split(',').map(Number);
  const out: Record<string, object> = {};
  for (const n of sizes) out[`generated${n}`] = await measure(shared, n);
  return out;
}
