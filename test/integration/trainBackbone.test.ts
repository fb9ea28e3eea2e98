import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { CNN_FEATURE_LAYER } from '../../src/main/ml/cnn/smallCnn.ts';
import { trainBackbone } from '../../src/main/ml/cnn/trainBackbone.ts';
import { Project } from '../../src/main/project.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';

const tmp = tempDir();
let project: Project;

beforeAll(async () => {
  const images = path.join(tmp.dir, 'images');
  const fakes = await makeImages(images, 40, 21, 40);
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes));
  project = Project.create(path.join(tmp.dir, 'p')).project;
  await runImport(project, await planImport({ imagesDir: images, metadataPath: path.join(tmp.dir, 'm.csv') }, project.dir));
});
afterAll(() => {
  project.close();
  tmp.cleanup();
});

describe('small CNN trained on the project’s labels', () => {
  it('trains on wasm, holds out patients, saves a backbone folder that extraction can use', async () => {
    const epochs: string[] = [];
    const s = await trainBackbone(project, {
      inputSize: 32,
      epochs: 2,
      batchSize: 8,
      name: 'tiny-cnn',
      onProgress: (p) => p.phase === 'train' && epochs.push(p.message ?? ''),
    });
    expect(s.backend?.backend).toBe('wasm');
    expect(s.trainImages + s.valImages).toBe(40);
    expect(s.valImages).toBeGreaterThan(0);
    expect(s.epochsRun).toBe(2);
    expect(epochs).toHaveLength(2);
    expect(epochs[0]).toMatch(/val loss \d/);
    expect(s.dir).toBe(path.join(project.dir, 'models', 'tiny-cnn'));
    const sidecar = JSON.parse(fs.readFileSync(path.join(s.dir, 'dermfuse-backbone.json'), 'utf8'));
    expect(sidecar).toMatchObject({ featureLayer: CNN_FEATURE_LAYER, preprocessing: { inputSize: 32 } });
    const f = await extractFeatures(project, s.dir, { workers: 1 });
    expect(f).toMatchObject({ dim: 160, extracted: 40, failed: 0, backbone: 'tiny-cnn' });
  });

  it('refuses a name that exists and one that would leave the project', async () => {
    await expect(trainBackbone(project, { inputSize: 32, epochs: 1, name: 'tiny-cnn' })).rejects.toThrow(/exists already/);
    await expect(trainBackbone(project, { inputSize: 32, epochs: 1, name: '../escape' })).rejects.toThrow(/letters, digits/);
  });

  it('stops on cancel and saves nothing', async () => {
    const controller = new AbortController();
    await expect(
      trainBackbone(project, {
        inputSize: 32,
        epochs: 50,
        batchSize: 8,
        name: 'cancelled',
        signal: controller.signal,
        onProgress: (p) => p.phase === 'train' && controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(fs.existsSync(path.join(project.dir, 'models', 'cancelled'))).toBe(false);
    expect(fs.existsSync(path.join(project.dir, 'models', 'cancelled.partial'))).toBe(false);
  });
});
