import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { scanImages } from '../../src/main/files/imageFiles.ts';
import { THUMB_SIZE } from '../../src/main/images/thumbnails.ts';
import { runPool } from '../../src/main/jobs/progress.ts';
import { Project } from '../../src/main/project.ts';

const CONCURRENCY = Math.max(2, os.availableParallelism() * 2);

/** The bare loop a user could write: read, auto-orient, thumbnail, encode; same size, quality and concurrency. */
async function bareSharp(dir: string): Promise<number> {
  const files = await scanImages(dir);
  const t = performance.now();
  await runPool(files, CONCURRENCY, async (f) => {
    await sharp(await fs.promises.readFile(f.path))
      .rotate()
      .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 80 })
      .toBuffer();
  });
  return files.length / ((performance.now() - t) / 1000);
}

async function dermfuseImport(dir: string, csv: string | undefined): Promise<{ imagesPerSecond: number; images: number; reimportSeconds: number }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  const project = Project.create(path.join(tmp, 'p')).project;
  try {
    const t = performance.now();
    const plan = await planImport({ imagesDir: dir, metadataPath: csv }, project.dir);
    const s = await runImport(project, plan);
    const seconds = (performance.now() - t) / 1000;
    const t2 = performance.now();
    await runImport(project, await planImport({ imagesDir: dir, metadataPath: csv }, project.dir));
    return { imagesPerSecond: s.imagesAdded / seconds, images: s.imagesAdded, reimportSeconds: (performance.now() - t2) / 1000 };
  } finally {
    project.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Import throughput on PAD `originals/` (large PNGs) and `images/` beside a bare sharp loop, in the same run. */
export async function importBench(padDir: string): Promise<object> {
  const out: Record<string, object> = {};
  for (const [name, sub, csv] of [
    ['originals', 'originals', undefined],
    ['images', 'images', path.join(padDir, 'metadata.csv')],
  ] as const) {
    const dir = path.join(padDir, sub);
    await bareSharp(dir); // warm-up: file cache and libvips
    const bare = await bareSharp(dir);
    const ours = await dermfuseImport(dir, csv);
    out[name] = {
      images: ours.images,
      importImagesPerSecond: round(ours.imagesPerSecond),
      bareSharpImagesPerSecond: round(bare),
      ratio: round(ours.imagesPerSecond / bare),
      reimportSeconds: round(ours.reimportSeconds),
    };
  }
  out.wideCsv = await wideCsvBench(path.join(padDir, 'images'));
  return out;
}

/** Seconds to plan and import a 10,000-column CSV of 3 rows (72 s before the schema stopped being re-read per field). */
async function wideCsvBench(padImages: string): Promise<object> {
  const COLUMNS = 10_000;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  try {
    const ids = fs
      .readdirSync(padImages)
      .slice(0, 3)
      .map((f) => path.parse(f).name);
    const images = path.join(tmp, 'images');
    fs.mkdirSync(images);
    for (const id of ids) fs.copyFileSync(path.join(padImages, `${id}.jpg`), path.join(images, `${id}.jpg`));
    const header = ['image_id', 'label', ...Array.from({ length: COLUMNS - 2 }, (_, i) => `f${i}`)];
    const rows = ids.map((id, r) => [id, 'A', ...header.slice(2).map((_, i) => String((i + r) % 97))].join(','));
    const csv = path.join(tmp, 'wide.csv');
    fs.writeFileSync(csv, [header.join(','), ...rows].join('\n') + '\n');
    const project = Project.create(path.join(tmp, 'p')).project;
    try {
      const t = performance.now();
      await runImport(
        project,
        await planImport({ imagesDir: images, metadataPath: csv, preset: 'generic', idColumn: 'image_id', labelColumn: 'label' }, project.dir),
      );
      return { columns: COLUMNS, rows: ids.length, seconds: round((performance.now() - t) / 1000), aimSeconds: 3 };
    } finally {
      project.close();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
