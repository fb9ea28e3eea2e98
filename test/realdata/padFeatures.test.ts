import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { FeatureStore } from '../../src/main/db/repos/featureStore.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { HAS_PAD, PAD_DIR, SHARED } from '../fixtures/shared.ts';

const MODELS = path.join(SHARED, 'models');

describe.skipIf(!HAS_PAD)('real MobileNets from ../shared on PAD-UFES-20 photos', () => {
  const tmp = tempDir();
  let project: Project;

  beforeAll(async () => {
    // 40 photos keep the suite quick; `npm run bench` runs all 686.
    const subset = path.join(tmp.dir, 'images');
    fs.mkdirSync(subset);
    for (const f of fs.readdirSync(path.join(PAD_DIR, 'images')).sort().slice(0, 40)) fs.copyFileSync(path.join(PAD_DIR, 'images', f), path.join(subset, f));
    project = Project.create(path.join(tmp.dir, 'p')).project;
    await runImport(project, await planImport({ imagesDir: subset, metadataPath: path.join(PAD_DIR, 'metadata.csv') }, project.dir));
  });
  afterAll(() => {
    project.close();
    tmp.cleanup();
  });

  it.each([
    ['mobilenet_v1_0.75_224', 768],
    ['mobilenet_v2_0.35_224_tm', 1280],
  ])('%s gives %i-d features for every photo', async (name, dim) => {
    const s = await extractFeatures(project, path.join(MODELS, name), { runtime: 'tfjs' });
    // On TF.js the fused BatchNorm/ReLU6 path is used, and was checked against the standard path at load.
    expect(s).toMatchObject({ dim, images: 40, extracted: 40, failed: 0, fused: true });
    const vectors = new FeatureStore(project.db).imageVectors(s.key);
    expect(vectors).toHaveLength(40);
    // Post-ReLU pooled features: non-negative, not all equal across images.
    expect(vectors.every((v) => v.vector.every((x) => x >= 0 && Number.isFinite(x)))).toBe(true);
    expect(vectors[0]!.vector).not.toEqual(vectors[1]!.vector);
  });

  it('the small built-in backbone gives the same features as the shared MobileNetV2-0.35 it was cut from', async () => {
    const builtIn = await extractFeatures(project, SMALL_BUILT_IN_BACKBONE);
    const shared = await extractFeatures(project, path.join(MODELS, 'mobilenet_v2_0.35_224_tm'));
    const store = new FeatureStore(project.db);
    const a = store.imageVectors(builtIn.key);
    const b = store.imageVectors(shared.key);
    expect(a).toHaveLength(40);
    let maxDiff = 0;
    a.forEach((v, i) => v.vector.forEach((x, j) => (maxDiff = Math.max(maxDiff, Math.abs(x - b[i]!.vector[j]!)))));
    // Both run on ONNX Runtime as graphs converted from each model; the built-in one has no nested model around
    // the backbone, so the optimiser may fuse in another order (features are around 1-6).
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
