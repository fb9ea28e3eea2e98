import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { DEFAULT_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { FeatureStore } from '../../src/main/db/repos/featureStore.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import type { BackboneSpec } from '../../src/shared/backbone.ts';
import { OrtEmbedder } from '../../src/main/ml/onnx/ortEmbedder.ts';
import { readGraph } from '../../src/main/ml/onnx/graph.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { HAS_PAD, PAD_DIR, PAD_SCOPE, padPhotos, SHARED } from '../fixtures/shared.ts';

const MODELS = path.join(SHARED, 'models');
const V2_ONNX = path.join(MODELS, 'mobilenet_v2_1.0_224_imagenet_onnx');

const f32 = (file: string) => {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** The spec's features (its own .onnx file) of the 4 reference inputs: 1280-d, within 1e-4 of PyTorch's. */
async function expectReferenceFeatures(spec: BackboneSpec): Promise<void> {
  const e = await OrtEmbedder.load(spec, { file: path.join(spec.dir, spec.onnx!.file), input: null, layout: 'nchw', pixels: false, threads: 2 });
  const out = await e.forward(f32(path.join(V2_ONNX, 'reference_input.f32')), 4);
  const ref = f32(path.join(V2_ONNX, 'reference_features.f32'));
  expect(out.dim).toBe(1280);
  let diff = 0;
  out.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - ref[i]!))));
  expect(diff).toBeLessThan(1e-4);
  await e.dispose();
}

describe.skipIf(!HAS_PAD)(`ONNX Runtime backbones on the real models and ${PAD_SCOPE}`, () => {
  const tmp = tempDir();
  let project: Project;
  let photos: { count: number; distinct: number };

  beforeAll(async () => {
    project = Project.create(path.join(tmp.dir, 'p')).project;
    photos = padPhotos(path.join(tmp.dir, 'images'));
    await runImport(project, await planImport({ imagesDir: path.join(tmp.dir, 'images'), metadataPath: path.join(PAD_DIR, 'metadata.csv') }, project.dir));
  }, 180_000);
  afterAll(() => {
    project.close();
    tmp.cleanup();
  });

  it('the ImageNet MobileNetV2-1.0 ONNX reproduces PyTorch’s reference features within 1e-4', async () => {
    const { spec } = await resolveBackbone(V2_ONNX);
    expect(spec).toMatchObject({
      format: 'onnx',
      onnx: { file: 'model.onnx', layout: 'nchw' },
      preprocessing: { inputSize: 224, resize: 'center-crop', crop: 0.875 },
    });
    await expectReferenceFeatures(spec);
  });

  it('the default backbone is that model, shipped in resources: the same bytes and preprocessing, PyTorch’s features within 1e-4', async () => {
    const builtIn = await resolveBackbone(DEFAULT_BACKBONE);
    const shared = await resolveBackbone(V2_ONNX);
    expect(builtIn.spec.dir).not.toBe(shared.spec.dir);
    expect(builtIn.digest).toBe(shared.digest);
    expect(builtIn.spec.preprocessing).toEqual(shared.spec.preprocessing);
    expect(builtIn.spec.featureLayer).toBe(shared.spec.featureLayer);
    await expectReferenceFeatures(builtIn.spec);
  });

  it("an inner feature map taken with --layer averages to the model's own pooled features (the output is added to the graph)", async () => {
    const graph = readGraph(fs.readFileSync(path.join(V2_ONNX, 'model.onnx')));
    const pool = graph.nodes.find((n) => n.outputs.includes('features'))!;
    const { spec } = await resolveBackbone(V2_ONNX, { layer: pool.inputs[0] });
    await expectReferenceFeatures(spec);
  });

  it(`the default backbone gives 1280-d features for every one of ${PAD_SCOPE}`, async () => {
    const s = await extractFeatures(project, DEFAULT_BACKBONE);
    // A byte-identical pair (PAD holds one) is computed once.
    expect(s).toMatchObject({ dim: 1280, images: photos.distinct, extracted: photos.distinct, failed: 0, runtime: { runtime: 'onnx', converted: false } });
    const vectors = new FeatureStore(project.db).imageVectors(s.key);
    expect(vectors).toHaveLength(photos.count);
    expect(vectors.every((v) => v.vector.length === 1280 && v.vector.every((x) => Number.isFinite(x) && x >= 0))).toBe(true);
  }, 180_000);

  it.each(['mobilenet_v1_0.75_224', 'mobilenet_v2_0.35_224_tm'])(
    `%s converted to ONNX matches TF.js on ${PAD_SCOPE} (max difference below 1e-4 of the feature scale)`,
    async (name) => {
      const store = new FeatureStore(project.db);
      const tfjs = await extractFeatures(project, path.join(MODELS, name), { runtime: 'tfjs' });
      const a = store.imageVectors(tfjs.key);
      project.db.prepare('DELETE FROM features WHERE backbone_key = ?').run(tfjs.key);
      const onnx = await extractFeatures(project, path.join(MODELS, name), { runtime: 'onnx' });
      expect(onnx.key).toBe(tfjs.key);
      expect(onnx).toMatchObject({ extracted: photos.distinct, runtime: { runtime: 'onnx', converted: true } });
      const b = new Map(store.imageVectors(onnx.key).map((v) => [v.sha256, v.vector]));
      let diff = 0;
      let scale = 0;
      for (const v of a) {
        const w = b.get(v.sha256)!;
        v.vector.forEach((x, j) => {
          diff = Math.max(diff, Math.abs(x - w[j]!));
          scale = Math.max(scale, Math.abs(x));
        });
      }
      expect(a).toHaveLength(photos.count);
      expect(diff / scale).toBeLessThan(1e-4);
    },
    240_000,
  );
});
