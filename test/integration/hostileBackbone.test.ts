import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JobInfo } from '../../src/shared/jobs.ts';
import { jobFor } from '../../src/main/workflows/jobs.ts';
import { FeatureStore } from '../../src/main/db/repos/featureStore.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { JobManager, type JobBody } from '../../src/main/jobs/manager.ts';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';
import { backboneKey, rangePreprocessing } from '../../src/main/ml/input/spec.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { folderHandler } from '../../src/main/ml/tfjs/modelFiles.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { folderSaver, makeTinyLayersModel } from '../fixtures/tinyModel.ts';

const tmp = tempDir();
const tiny = path.join(tmp.dir, 'tiny');
let project: Project;

/** 32x32 photos of one shade (black: label nev; white: mel), four patients, with their CSV; a folder of its own. */
async function photos(dir: string, shade: 0 | 255, ids: number[]): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const lines = ['image_id,dx,patient_id'];
  for (const i of ids) {
    // A pixel of noise so no two files share content (the store keys vectors by content).
    const pixels = Buffer.alloc(32 * 32 * 3, shade);
    pixels[0] = shade ? 255 - i : i;
    await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(path.join(dir, `IMG_${i}.png`));
    lines.push(`IMG_${i},${shade ? 'mel' : 'nev'},P${i % 4}`);
  }
  fs.writeFileSync(path.join(dir, 'meta.csv'), lines.join('\n') + '\n');
  return path.join(dir, 'meta.csv');
}

/**
 * The tiny model with weights that overflow float32 for bright images only: all-positive first convolutions (a
 * black image, -1 after preprocessing, is cut to 0 by ReLU6; a white one is not) and a 1e38 pointwise kernel, so
 * a white image's features are infinite and a black one's are 0.
 */
async function overflowingModel(dir: string): Promise<void> {
  const model = await tf.loadLayersModel(folderHandler(tiny));
  const fill = (name: string, value: number) => {
    const layer = model.getLayer(name);
    layer.setWeights(layer.getWeights().map((w, i) => (i === 0 ? tf.fill(w.shape, value) : tf.zerosLike(w))));
  };
  fill('conv1', 0.1);
  fill('dw1', 0.1);
  fill('pw1', 1e38);
  await model.save(folderSaver(dir));
  model.dispose();
}

/** Runs a feature extraction as the app does, as a job (one image per batch), to its end. */
async function extractJob(backbone: string): Promise<JobInfo> {
  const jobs = new JobManager();
  const { title, body } = jobFor(project, { kind: 'extract', backbone, workers: 1, batchSize: 1, runtime: 'tfjs' });
  let job = jobs.start('extract', title, body as JobBody<'extract'>) as JobInfo;
  while (job.status === 'running') job = await jobs.watch(job.id, job.version, 2000);
  return job;
}

const stored = () => project.db.prepare('SELECT COUNT(*) FROM features').pluck().get() as number;
const backbones = () => new FeatureStore(project.db).backbones();

beforeAll(async () => {
  await initBackend();
  await makeTinyLayersModel(tiny);
  project = Project.create(path.join(tmp.dir, 'project')).project;
  // Black photos imported first: extraction takes images in import order, so they are embedded before the white ones.
  for (const [shade, ids] of [
    [0, [0, 2, 4, 6]],
    [255, [1, 3, 5, 7]],
  ] as const) {
    const dir = path.join(tmp.dir, shade ? 'white' : 'black');
    const csv = await photos(dir, shade, [...ids]);
    const req = { imagesDir: dir, metadataPath: csv, preset: 'generic' as const, idColumn: 'image_id', labelColumn: 'dx', patientColumn: 'patient_id' };
    await runImport(project, await planImport(req, project.dir));
  }
}, 60_000);
afterAll(() => {
  project.close();
  tmp.cleanup();
});

describe('a hostile or broken backbone', () => {
  it.each([
    [
      'scale [1e308, -1e308, 1e308]',
      { preprocessing: { ...rangePreprocessing(32, -1, 1), scale: [1e308, -1e308, 1e308] } },
      /preprocessing\.scale\.0: must be non-zero, between 1e-9 and 1000000 in size/,
    ],
    [
      'an infinite offset',
      { preprocessing: { ...rangePreprocessing(32, -1, 1), offset: [0, Infinity, 0] } },
      /preprocessing\.offset\.1: must be a finite number/,
    ],
    ['a zero scale', { preprocessing: { ...rangePreprocessing(32, -1, 1), scale: [0, 0, 0] } }, /preprocessing\.scale\.0: must be non-zero/],
    [
      'the name "../../../../x"',
      { name: '../../../../x' },
      /name: a backbone name starts with a letter or digit and holds only letters, digits, spaces, dots, dashes and underscores \(no "\.\."\)/,
    ],
    ['the name "a+b" (it would split into two keys)', { name: 'a+b' }, /name: a backbone name/],
    ['a key DermFuse would ignore (inputSize outside preprocessing)', { inputSize: 1e308 }, /inputSize/],
  ])('refuses a sidecar with %s: the job fails naming the sidecar and the field, and nothing is stored', async (what, sidecar, message) => {
    const dir = path.join(tmp.dir, `sidecar-${what.replace(/\W+/g, '-')}`);
    fs.cpSync(tiny, dir, { recursive: true });
    // JSON.stringify writes 1e400 as null; the file says it as a number, as a hostile one would.
    fs.writeFileSync(path.join(dir, 'dermfuse-backbone.json'), JSON.stringify(sidecar).replace('null', '1e400'));
    const job = await extractJob(dir);
    expect(job.status).toBe('failed');
    expect(job.error!.message).toContain(path.join(dir, 'dermfuse-backbone.json'));
    expect(job.error!.message).toMatch(message);
    expect(stored()).toBe(0);
    expect(backbones()).toEqual([]);
  });

  it('refuses non-finite features naming the image and the backbone, and keeps nothing of the failed extraction (but what an earlier one stored)', async () => {
    const dir = path.join(tmp.dir, 'overflow');
    await overflowingModel(dir);
    const discard = vi.spyOn(FeatureStore.prototype, 'discard');
    const first = await extractJob(dir);
    expect(first.status).toBe('failed');
    expect(first.error!.message).toMatch(/^Backbone overflow gave non-finite features \(NaN or infinity\) for .*white\/IMG_[1357]\.png: its preprocessing/);
    // Black photos embedded and stored before the first white one went with the failure. How many were stored depends
    // on which decode finished first (two batches are in flight), so: some or all of the four, and only black ones.
    const black = new Set(project.db.prepare(`SELECT sha256 FROM images WHERE CAST(substr(external_id, 5) AS INTEGER) % 2 = 0`).pluck().all() as string[]);
    expect(discard).toHaveBeenLastCalledWith(expect.stringMatching(/^overflow-/), expect.any(Array), true);
    expect(discard.mock.lastCall![1].length).toBeLessThanOrEqual(4);
    expect(discard.mock.lastCall![1].every((sha) => black.has(sha))).toBe(true);
    expect(stored()).toBe(0);
    expect(backbones()).toEqual([]);

    // An extraction that failed with garbage after resuming keeps what the earlier one stored, and the key.
    const { spec, digest } = await resolveBackbone(dir);
    const key = backboneKey(spec, digest);
    const store = new FeatureStore(project.db);
    const earlier = project.db.prepare(`SELECT sha256 FROM images WHERE external_id = 'IMG_0'`).pluck().get() as string;
    store.registerBackbone(key, spec, 12, digest);
    store.put(key, [{ sha256: earlier, vector: new Float32Array(12) }]);
    const again = await extractJob(dir);
    expect(again.status).toBe('failed');
    expect(discard).toHaveBeenLastCalledWith(key, expect.any(Array), false);
    expect(discard.mock.lastCall![1].length).toBeLessThanOrEqual(3);
    expect(discard.mock.lastCall![1].every((sha) => black.has(sha) && sha !== earlier)).toBe(true);
    expect([...store.cachedHashes(key)]).toEqual([earlier]);
    expect(backbones().map((b) => b.key)).toEqual([key]);
    discard.mockRestore();
    store.discard(key, [earlier], true);
  });

  it('refuses to train on non-finite features an older extraction stored, naming the image', async () => {
    const store = new FeatureStore(project.db);
    const spec = { name: 'old', dir: tiny, format: 'layers' as const, featureLayer: null, preprocessing: rangePreprocessing(32, -1, 1), tta: false };
    store.registerBackbone('old-0123456789abcdef', spec, 2);
    const rows = project.db.prepare(`SELECT sha256, external_id AS id FROM images ORDER BY id`).all() as { sha256: string; id: string }[];
    store.put(
      'old-0123456789abcdef',
      rows.map((r, i) => ({ sha256: r.sha256, vector: new Float32Array([i, r.id === 'IMG_5' ? NaN : 1]) })),
    );
    await expect(trainRun(project, { label: 'dx', positive: ['mel'], fields: null, group: 'patient', folds: 2, backbone: 'old', seed: 1 })).rejects.toThrow(
      /The features old-0123456789abcdef of image IMG_5 hold non-finite values \(NaN or infinity\): they cannot be trained on/,
    );
  });
});
