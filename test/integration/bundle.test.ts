import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/main/files/csv.ts';
import { initBackend } from '../../src/main/ml/tfjs/backend.ts';
import { exportBundle } from '../../src/main/ml/bundle/exportBundle.ts';
import { loadBundle } from '../../src/main/ml/bundle/loadBundle.ts';
import { predictWithBundle } from '../../src/main/workflows/predict.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { predictWithRun } from '../../src/main/ml/fusion/runPredict.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { Project } from '../../src/main/project.ts';
import { makeImages, tempDir } from '../fixtures/generate.ts';
import { importGeneric } from '../fixtures/project.ts';
import { makeTinyLayersModel } from '../fixtures/tinyModel.ts';
import { tf } from '../../src/main/ml/tfjs/backend.ts';
import { folderHandler } from '../../src/main/ml/tfjs/modelFiles.ts';
import { featureModel } from '../../src/main/ml/tfjs/embedder.ts';
import { layersToOnnx } from '../../src/main/ml/onnx/fromLayers.ts';
import { encodeModel } from '../../src/main/ml/onnx/proto.ts';
import { rangePreprocessing } from '../../src/main/ml/input/spec.ts';
import { BIN } from '../fixtures/cli.ts';

const tmp = tempDir();
const images = path.join(tmp.dir, 'images');
const csv = path.join(tmp.dir, 'meta.csv');
let project: Project;
let runId: number;
let onnxKey: string;
const bundle = path.join(tmp.dir, 'bundle');

beforeAll(async () => {
  await initBackend();
  const fakes = await makeImages(images, 60, 9, 32);
  // Labels follow age (metadata) and, through the disc colour, the image.
  const lines = ['image_id,dx,patient_id,lesion_id,age,site'];
  fakes.forEach((f, i) =>
    lines.push(
      `${f.id},${i % 3 === 0 ? 'mel' : 'nev'},${f.patient},${f.lesion},${i % 3 === 0 ? 60 + (i % 7) : 30 + (i % 11)},${['ARM', 'LEG', 'BACK'][i % 3]}`,
    ),
  );
  fs.writeFileSync(csv, lines.join('\n') + '\n');
  project = Project.create(path.join(tmp.dir, 'p')).project;
  await importGeneric(project, images, csv, 'dx');
  const model = path.join(tmp.dir, 'tiny');
  await makeTinyLayersModel(model);
  await extractFeatures(project, model, { workers: 1 });
  runId = (await trainRun(project, { label: 'dx', positive: ['mel'], fields: null, group: 'patient', folds: 3, backbone: null, seed: 2 })).runId;
  await exportBundle(project, runId, 'fused', bundle);
}, 180_000);
afterAll(() => {
  project.close();
  tmp.cleanup();
});

describe('exported bundles', () => {
  it('hold the backbone, preprocessing, a model card and a manifest with the SHA-256 of every file', async () => {
    const b = await loadBundle(bundle);
    expect(Object.keys(b.manifest.files).sort()).toEqual(['MODEL_CARD.md', 'backbone/model.json', 'backbone/weights.bin', 'preprocessing.json']);
    expect(b.pre).toMatchObject({
      mode: 'fused',
      classes: ['not mel', 'mel'],
      fields: [
        { name: 'age', type: 'number' },
        { name: 'site', type: 'category' },
      ],
    });
    const card = fs.readFileSync(path.join(bundle, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/## Intended use/);
    expect(card).toMatch(/\| fused \(this model\) \| \d\.\d{3} \|/);
    expect(card).toMatch(/## Subgroups/);
    expect(card).toMatch(/\| site \| ARM \| 20 \|/);
  });

  it('predict exactly what the workbench’s final model predicts for the same images (max |diff| < 1e-5)', async () => {
    const s = await predictWithBundle(bundle, images, { metadataPath: csv, idColumn: 'image_id' });
    expect(s).toMatchObject({ mode: 'fused', images: 60, failed: 0, warnings: [] });
    const w = predictWithRun(project, runId, 'fused');
    const byId = new Map(s.rows.map((r) => [r.imageId, r.probabilities.mel!]));
    let worst = 0;
    w.externalIds.forEach((id, i) => (worst = Math.max(worst, Math.abs(byId.get(id)! - w.probs[i * 2 + 1]!))));
    expect(w.externalIds).toHaveLength(60);
    expect(worst).toBeLessThan(1e-5);
  });

  it('carry an .onnx backbone (the model file and its sidecar settings) and predict with it on ONNX Runtime', async () => {
    // A small ONNX model the test builds: the tiny Keras model converted, with a sidecar giving its input and layout.
    const onnxDir = path.join(tmp.dir, 'tiny-onnx');
    fs.mkdirSync(onnxDir);
    const tiny = await tf.loadLayersModel(folderHandler(path.join(tmp.dir, 'tiny')));
    fs.writeFileSync(path.join(onnxDir, 'tiny.onnx'), encodeModel(layersToOnnx(featureModel(tiny, 'global_average_pooling2d_1'), 32)));
    fs.writeFileSync(
      path.join(onnxDir, 'dermfuse-backbone.json'),
      JSON.stringify({ name: 'tiny-onnx', preprocessing: rangePreprocessing(32, -1, 1), onnx: { layout: 'nhwc' } }),
    );
    const x = await extractFeatures(project, onnxDir, { workers: 1 });
    expect(x).toMatchObject({ backbone: 'tiny-onnx', dim: 12, extracted: 60, runtime: { runtime: 'onnx', converted: false } });
    await expect(extractFeatures(project, path.join(onnxDir, 'tiny.onnx'), { runtime: 'tfjs' })).rejects.toThrow(
      /tiny-onnx is an ONNX model: it runs on ONNX Runtime only/,
    );
    const run = await trainRun(project, { label: 'dx', positive: ['mel'], fields: null, group: 'patient', folds: 3, backbone: x.key, seed: 2 });
    const out = path.join(tmp.dir, 'bundle-onnx');
    await exportBundle(project, run.runId, 'fused', out);
    expect(Object.keys((await loadBundle(out)).manifest.files).sort()).toEqual(['MODEL_CARD.md', 'backbone/tiny.onnx', 'preprocessing.json']);
    const s = await predictWithBundle(out, images, { metadataPath: csv, idColumn: 'image_id' });
    expect(s).toMatchObject({ images: 60, failed: 0, runtime: { runtime: 'onnx', converted: false } });
    const w = predictWithRun(project, run.runId, 'fused');
    const byId = new Map(s.rows.map((r) => [r.imageId, r.probabilities.mel!]));
    let worst = 0;
    w.externalIds.forEach((id, i) => (worst = Math.max(worst, Math.abs(byId.get(id)! - w.probs[i * 2 + 1]!))));
    expect(worst).toBeLessThan(1e-5);
    tiny.dispose();
    onnxKey = x.key;
  });

  it('carry every backbone of a run that fused two, and predict exactly what the run predicts', async () => {
    const tinyKey = (await extractFeatures(project, path.join(tmp.dir, 'tiny'), { workers: 1 })).key;
    const run = await trainRun(project, {
      label: 'dx',
      positive: ['mel'],
      fields: null,
      group: 'patient',
      folds: 3,
      backbone: `${tinyKey},${onnxKey}`,
      seed: 2,
    });
    const out = path.join(tmp.dir, 'bundle-two');
    await exportBundle(project, run.runId, 'fused', out);
    const b = await loadBundle(out);
    expect(Object.keys(b.manifest.files).sort()).toEqual([
      'MODEL_CARD.md',
      'backbone-2/tiny.onnx',
      'backbone/model.json',
      'backbone/weights.bin',
      'preprocessing.json',
    ]);
    expect(b.manifest.version).toBe(2);
    expect(b.pre.moreBackbones?.map((x) => x.folder)).toEqual(['backbone-2']);
    const s = await predictWithBundle(out, images, { metadataPath: csv, idColumn: 'image_id' });
    expect(s).toMatchObject({ images: 60, failed: 0 });
    expect(s.runtime?.detail.split('; ')).toHaveLength(2);
    const w = predictWithRun(project, run.runId, 'fused');
    const byId = new Map(s.rows.map((r) => [r.imageId, r.probabilities.mel!]));
    let worst = 0;
    w.externalIds.forEach((id, i) => (worst = Math.max(worst, Math.abs(byId.get(id)! - w.probs[i * 2 + 1]!))));
    expect(worst).toBeLessThan(1e-5);
    // An older DermFuse (bundle version 1) refuses it rather than predicting from the first backbone alone; single-backbone bundles stay version 1.
    expect((await loadBundle(bundle)).manifest.version).toBe(1);
  });

  it('writes one CSV row per image via the CLI, naming missing fields and a column the CSV lacks', () => {
    const partial = path.join(tmp.dir, 'partial.csv');
    fs.writeFileSync(partial, ['image_id,age', 'IMG_00000,61', 'IMG_00001,'].join('\n') + '\n');
    const out = path.join(tmp.dir, 'pred.csv');
    const r = spawnSync(
      process.execPath,
      [BIN, 'predict', bundle, '--images', images, '--metadata', partial, '--id-column', 'image_id', '--out', out, '--json'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/partial\.csv has no column "site"/), expect.stringMatching(/58 image\(s\) have no row in partial\.csv/)]),
    );
    const table = parseCsv(fs.readFileSync(out, 'utf8'), 'pred.csv');
    expect(table.header).toEqual(['image_id', 'predicted', 'p_not mel', 'p_mel', 'missing_fields', 'error']);
    expect(table.rows).toHaveLength(60);
    const row = (id: string) => table.rows.find((r) => r.cells[0] === id)!.cells;
    expect(row('IMG_00000')[4]).toBe('site');
    expect(row('IMG_00001')[4]).toBe('age;site');
    expect(Number(row('IMG_00000')[2]) + Number(row('IMG_00000')[3])).toBeCloseTo(1, 6);
  });

  it.each([
    ['a missing file', (d: string) => fs.rmSync(path.join(d, 'backbone/weights.bin')), /backbone\/weights\.bin is missing/],
    ['an edited JSON', (d: string) => fs.appendFileSync(path.join(d, 'preprocessing.json'), ' '), /preprocessing\.json does not match its SHA-256/],
    [
      'a damaged weight file',
      (d: string) => {
        const f = path.join(d, 'backbone/weights.bin');
        const b = fs.readFileSync(f);
        b[3] = b[3]! ^ 1;
        fs.writeFileSync(f, b);
      },
      /weights\.bin does not match its SHA-256/,
    ],
    [
      'a newer format version',
      (d: string) => {
        const f = path.join(d, 'manifest.json');
        fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"version": 1', '"version": 99'));
      },
      /format version 99 is newer than this DermFuse reads \(2\)/,
    ],
    ['a foreign folder', (d: string) => fs.rmSync(path.join(d, 'manifest.json')), /not a DermFuse bundle \(no manifest\.json\)/],
    [
      'a FIFO in place of the weights (never opened: a read would wait forever)',
      (d: string) => {
        fs.rmSync(path.join(d, 'backbone/weights.bin'));
        spawnSync('mkfifo', [path.join(d, 'backbone/weights.bin')]);
      },
      /backbone\/weights\.bin is not a regular file \(it is a named pipe \(FIFO\)\)/,
    ],
  ])('refuses %s, naming what is wrong', async (_what, damage, message) => {
    const copy = path.join(tmp.dir, `damaged-${Math.random().toString(36).slice(2)}`);
    fs.cpSync(bundle, copy, { recursive: true });
    damage(copy);
    await expect(loadBundle(copy)).rejects.toThrow(message);
  });

  it('refuses to overwrite a folder that is not empty', async () => {
    await expect(exportBundle(project, runId, 'fused', bundle)).rejects.toThrow(/exists and is not empty/);
  });
});
