import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { exportFeatures } from '../../src/main/ml/backbone/exportFeatures.ts';
import { Project } from '../../src/main/project.ts';
import { countRows, waitForCount } from '../fixtures/db.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { folderSaver, makeTinyLayersModel } from '../fixtures/tinyModel.ts';
import { tf } from '../../src/main/ml/tfjs/backend.ts';
import { BIN } from '../fixtures/cli.ts';

const tmp = tempDir();
const modelDir = path.join(tmp.dir, 'tiny');

async function importedProject(name: string, n: number, size = 48): Promise<{ dir: string; images: string }> {
  const images = path.join(tmp.dir, `${name}-images`);
  const fakes = await makeImages(images, n, 11, size);
  fs.writeFileSync(path.join(tmp.dir, `${name}.csv`), hamCsv(fakes));
  const dir = path.join(tmp.dir, name);
  const p = Project.create(dir).project;
  await runImport(p, await planImport({ imagesDir: images, metadataPath: path.join(tmp.dir, `${name}.csv`) }, p.dir));
  p.close();
  return { dir, images };
}

beforeAll(async () => {
  await makeTinyLayersModel(modelDir);
});
afterAll(() => tmp.cleanup());

describe('feature extraction job', () => {
  it('embeds every image in workers, caches by content, and only computes what is missing on a re-run', async () => {
    const { dir, images } = await importedProject('a', 20);
    // A byte-identical copy shares its vector.
    fs.copyFileSync(path.join(images, 'IMG_00000.jpg'), path.join(images, 'DUP.jpg'));
    const p = Project.open(dir);
    await runImport(p, await planImport({ imagesDir: images }, p.dir));
    const s = await extractFeatures(p, modelDir, { workers: 2, batchSize: 4 });
    expect(s).toMatchObject({ dim: 12, images: 20, extracted: 20, cached: 0, failed: 0, workers: 2 });
    // A TF.js model runs on ONNX Runtime by default, as a graph converted from it and checked against TF.js.
    expect(s.backend).toBe('onnxruntime');
    expect(s.runtime).toMatchObject({ runtime: 'onnx', converted: true, notes: [] });
    expect(s.runtime!.detail).toMatch(/^onnxruntime-node 1\.30\.\d+, cpu, 2 worker\(s\) x 1 thread\(s\), graph converted from TF\.js$/);
    expect(s.workerTensors.length).toBe(2);
    const again = await extractFeatures(p, modelDir, { workers: 1 });
    expect(again).toMatchObject({ extracted: 0, cached: 20 });
    // The same model on TF.js gives the same features (within 1e-4 of their scale): one cache key for both runtimes.
    const onTfjs = await extractFeatures(p, modelDir, { workers: 1, tta: true, runtime: 'tfjs' });
    expect(onTfjs.runtime).toMatchObject({ runtime: 'tfjs', converted: false });
    expect(['wasm', 'tensorflow', 'cpu']).toContain(onTfjs.backend);
    const ort = p.db.prepare('SELECT vector FROM features WHERE backbone_key = ? ORDER BY sha256').pluck().all(onTfjs.key) as Buffer[];
    p.db.prepare('DELETE FROM features WHERE backbone_key = ?').run(onTfjs.key);
    await extractFeatures(p, modelDir, { workers: 1, tta: true, runtime: 'onnx' });
    const onnx = p.db.prepare('SELECT vector FROM features WHERE backbone_key = ? ORDER BY sha256').pluck().all(onTfjs.key) as Buffer[];
    expect(onnx.length).toBe(ort.length);
    let diff = 0;
    let scale = 0;
    onnx.forEach((b, i) => {
      const x = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      const y = new Float32Array(ort[i]!.buffer, ort[i]!.byteOffset, ort[i]!.byteLength / 4);
      x.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(v - y[j]!));
        scale = Math.max(scale, Math.abs(y[j]!));
      });
    });
    expect(diff / scale).toBeLessThan(1e-4);
    p.db.prepare('DELETE FROM features WHERE backbone_key = ?').run(onTfjs.key);
    const other = await extractFeatures(p, modelDir, { workers: 1, tta: true });
    expect(other.key).toBe(onTfjs.key);
    expect(other.key).not.toBe(s.key);
    expect(other.extracted).toBe(20);
    const map = p.db.prepare('SELECT COUNT(*) FROM feature_maps WHERE backbone_key = ?').pluck().get(s.key);
    expect(map).toBe(20);
    const out = path.join(tmp.dir, 'features.csv');
    const r = await exportFeatures(p, s.key, out);
    expect(r).toMatchObject({ rows: 21, dim: 12 });
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]!.split(',')).toHaveLength(13);
    const byId = new Map(lines.slice(1).map((l) => [l.split(',')[0], l.slice(l.indexOf(',') + 1)]));
    expect(byId.get('DUP')).toBe(byId.get('IMG_00000'));
    p.close();
  });

  it('stays on TF.js, saying why, for a model the converter cannot take; refuses --runtime onnx for it', async () => {
    const { dir } = await importedProject('u', 4);
    const odd = path.join(tmp.dir, 'odd');
    const i = tf.input({ shape: [32, 32, 3] });
    let x = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, name: 'deconv' }).apply(i) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
    const m = tf.model({ inputs: i, outputs: x });
    await m.save(folderSaver(odd));
    const p = Project.open(dir);
    await expect(extractFeatures(p, odd, { workers: 1, runtime: 'onnx' })).rejects.toThrow(
      'odd cannot run on ONNX Runtime: the conversion to ONNX failed: layer deconv (Conv2DTranspose)',
    );
    const s = await extractFeatures(p, odd, { workers: 1 });
    expect(s).toMatchObject({ extracted: 4, dim: 3, runtime: { runtime: 'tfjs', converted: false } });
    expect(s.runtime!.notes).toEqual(['ONNX Runtime not used: the conversion to ONNX failed: layer deconv (Conv2DTranspose)']);
    p.close();
  });

  it('reports an image that became unreadable and carries on', async () => {
    const { dir, images } = await importedProject('b', 6);
    fs.writeFileSync(path.join(images, 'IMG_00002.webp'), 'garbage');
    const p = Project.open(dir);
    const s = await extractFeatures(p, modelDir, { workers: 1, batchSize: 2 });
    expect(s).toMatchObject({ extracted: 5, failed: 1 });
    expect(s.failures[0]!.source).toMatch(/IMG_00002\.webp$/);
    p.close();
  });

  it('stops on cancel and keeps finished batches', async () => {
    const { dir } = await importedProject('c', 24);
    const p = Project.open(dir);
    const controller = new AbortController();
    await expect(
      extractFeatures(p, modelDir, {
        workers: 1,
        batchSize: 2,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (x) => x.done >= 4 && controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    const kept = p.db.prepare('SELECT COUNT(*) FROM features').pluck().get() as number;
    expect(kept).toBeGreaterThanOrEqual(4);
    expect(kept).toBeLessThan(24);
    const s = await extractFeatures(p, modelDir, { workers: 1 });
    expect(s.cached + s.extracted).toBe(24);
    expect(s.cached).toBe(kept);
    p.close();
  });

  it('resumes after the process is killed mid-run (CLI), and names a bad backbone', async () => {
    const { dir } = await importedProject('d', 120, 160);
    // A larger input makes each batch slow enough to kill the run in the middle.
    const bigModel = path.join(tmp.dir, 'tiny160');
    await makeTinyLayersModel(bigModel, 160);
    const child = spawn(process.execPath, [BIN, 'extract', dir, '--backbone', bigModel, '--batch-size', '2', '--workers', '1', '--json'], { stdio: 'ignore' });
    const count = () => countRows(path.join(dir, 'project.sqlite'), 'SELECT COUNT(*) FROM features');
    await waitForCount(count, 8);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const partial = count();
    expect(partial).toBeGreaterThanOrEqual(8);
    expect(partial).toBeLessThan(120);
    const r = spawnSync(process.execPath, [BIN, 'extract', dir, '--backbone', bigModel, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ cached: partial, extracted: 120 - partial, failed: 0, dim: 12 });
    const bad = spawnSync(process.execPath, [BIN, 'extract', dir, '--backbone', path.join(tmp.dir, 'no-model'), '--json'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/no-model: not a model folder \(no model\.json or \.onnx file there\)/);
  });
});
