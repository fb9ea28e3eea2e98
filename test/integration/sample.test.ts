import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueEntry, DEFAULT_BACKBONE, SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { backboneDigest, resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import { backboneKey, IMAGENET_CENTER_CROP } from '../../src/main/ml/input/spec.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { BIN } from '../fixtures/cli.ts';

const RESOURCES = path.resolve(__dirname, '../../resources');
let tmp: ReturnType<typeof tempDir>;

/** The CLI with no network: any download attempt fails at once instead of hanging or succeeding. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, DERMFUSE_MODEL_CACHE: path.join(tmp.dir, 'empty-cache'), HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

describe('first run, offline, from what the repository ships', () => {
  it('sample → extract with the default backbone (built in) → train: three modes, no download', () => {
    const dir = path.join(tmp.dir, 'sample');
    const s = cli('sample', dir);
    expect(s).toMatchObject({ imagesAdded: 86, imagesFailed: 0, rowsMatched: 86, heldBack: 12, preset: 'pad-ufes-20', label: 'diagnostic' });
    expect(Object.keys(s.classes).sort()).toEqual(['ACK', 'BCC', 'MEL', 'NEV', 'SCC', 'SEK']);
    expect(fs.readFileSync(path.join(dir, 'SAMPLE-DATA-LICENCE.md'), 'utf8')).toMatch(/CC BY 4\.0[\s\S]*PAD-UFES-20: a skin lesion dataset/);
    const info = cli('info', dir);
    expect(info).toMatchObject({ images: 86, labelled: 74, patients: 37 });
    // The sample's screens call PAD's columns by plain names; the stored names stay the dataset's.
    expect(info.fields.find((f: { name: string }) => f.name === 'fitspatrick')).toMatchObject({ displayName: 'Fitzpatrick skin type' });
    expect(info.fields.find((f: { name: string }) => f.name === 'has_sewage_system')).toMatchObject({ displayName: 'Sewage system at home' });

    // The default backbone: the ImageNet MobileNetV2-1.0 shipped as ONNX, run as it is.
    const e = cli('extract', dir);
    expect(e).toMatchObject({ extracted: 86, failed: 0, dim: 1280 });
    expect(e).toMatchObject({ backbone: 'mobilenet_v2_1.0_224_onnx' });
    expect(e.key).toMatch(/^mobilenet_v2_1\.0_224_onnx-/);
    expect(e.runtime).toMatchObject({ runtime: 'onnx', converted: false });
    // Nothing downloaded (the proxy is a dead port) and nothing converted: the model cache stays empty.
    const cache = path.join(tmp.dir, 'empty-cache');
    expect(fs.existsSync(cache) ? fs.readdirSync(cache) : []).toEqual([]);
    // TF.js cannot run it: the refusal names the built-in backbone that can.
    const onTfjs = spawnSync(process.execPath, [BIN, 'extract', dir, '--runtime', 'tfjs'], { encoding: 'utf8' });
    expect(onTfjs.status).not.toBe(0);
    expect(onTfjs.stderr).toMatch(/mobilenet_v2_1\.0_224_onnx is an ONNX model: it runs on ONNX Runtime only .*mobilenet_v2_0\.35_224_builtin is built in/);

    const t = cli('train', dir, '--label', 'diagnostic', '--positive', 'BCC,MEL,SCC', '--folds', '3');
    expect(t.images).toBe(74);
    for (const mode of ['image', 'metadata', 'fused']) {
      expect(t.modes[mode].auc, mode).toBeGreaterThan(0.5);
      expect(t.modes[mode].aucCI).toHaveLength(2);
    }
  });

  it('opens an existing sample again, and refuses to put one over another project', () => {
    const dir = path.join(tmp.dir, 'sample');
    const again = spawnSync(process.execPath, [BIN, 'sample', dir], { encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds a project/);
  });

  it('the default backbone is the ImageNet MobileNetV2-1.0 ONNX, resolved offline from resources', async () => {
    const { spec, digest } = await resolveBackbone(DEFAULT_BACKBONE, { fetchImpl: () => Promise.reject(new Error('offline')) });
    expect(spec).toMatchObject({
      name: 'mobilenet_v2_1.0_224_onnx',
      dir: path.join(RESOURCES, 'models/mobilenet_v2_1.0_224_onnx'),
      format: 'onnx',
      onnx: { file: 'model.onnx', layout: 'nchw' },
      featureLayer: null,
      preprocessing: IMAGENET_CENTER_CROP,
    });
    // Its digest is the .onnx file's SHA-256, as for any ONNX backbone: what bundles, explanations and external
    // validation check the files against later.
    expect(digest).toBe(await backboneDigest(spec));
    expect(digest).toBe(catalogueEntry(DEFAULT_BACKBONE)!.digest);
  });

  it.each([
    [DEFAULT_BACKBONE, 'mobilenet_v2_1.0_224_onnx', 'model.onnx'],
    [SMALL_BUILT_IN_BACKBONE, 'mobilenet_v2_0.35_224', 'weights.bin'],
  ])('%s: named by id or by its folder, one feature key; a built-in copy whose file changed is refused', async (id, folder, file) => {
    const byId = await resolveBackbone(id);
    const byFolder = await resolveBackbone(path.join(RESOURCES, 'models', folder));
    expect(byFolder.spec.name).toBe(folder);
    expect(backboneKey(byFolder.spec, byFolder.digest)).toBe(backboneKey(byId.spec, byId.digest));

    const copy = path.join(tmp.dir, `resources-${folder}`);
    fs.cpSync(RESOURCES, copy, { recursive: true });
    const weights = path.join(copy, 'models', folder, file);
    const bytes = fs.readFileSync(weights);
    bytes[1000] = bytes[1000]! ^ 0xff;
    fs.writeFileSync(weights, bytes);
    process.env.DERMFUSE_RESOURCES = copy;
    try {
      await expect(resolveBackbone(id)).rejects.toThrow(/built-in backbone .* does not match its checksum/);
    } finally {
      delete process.env.DERMFUSE_RESOURCES;
    }
  });

  it('completes a sample whose creation was interrupted', async () => {
    const dir = path.join(tmp.dir, 'interrupted');
    // What a kill during the import leaves: the project and the copied photos, no licence file yet.
    Project.create(dir).project.close();
    fs.mkdirSync(path.join(dir, 'sample-images'));
    const { createSampleProject, isSampleProject } = await import('../../src/main/images/sample.ts');
    expect(isSampleProject(dir)).toBe(false);
    const s = await createSampleProject(dir);
    expect(s.imagesAdded).toBe(86);
    expect(isSampleProject(dir)).toBe(true);
  });
});
