import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
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
  it('sample → extract with the built-in backbone → train: three modes, no download', () => {
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

    const e = cli('extract', dir);
    expect(e).toMatchObject({ extracted: 86, failed: 0, dim: 1280 });
    expect(e).toMatchObject({ backbone: 'mobilenet_v2_0.35_224' });
    expect(e.key).toMatch(/^mobilenet_v2_0\.35_224-/);
    // Nothing downloaded (the proxy is a dead port): the model cache holds only the graph converted for ONNX Runtime.
    expect(e.runtime).toMatchObject({ runtime: 'onnx', converted: true });
    expect(fs.readdirSync(path.join(tmp.dir, 'empty-cache'))).toEqual(['converted']);
    expect(fs.readdirSync(path.join(tmp.dir, 'empty-cache', 'converted'))).toEqual([expect.stringMatching(/^mobilenet_v2_0\.35_224-[0-9a-f]{20}\.onnx$/)]);

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

  it('resolves the default backbone offline and refuses a built-in copy whose files changed', async () => {
    const { spec } = await resolveBackbone('default', { fetchImpl: () => Promise.reject(new Error('offline')) });
    expect(spec).toMatchObject({ name: 'mobilenet_v2_0.35_224', featureLayer: null, preprocessing: { inputSize: 224 } });
    const copy = path.join(tmp.dir, 'resources');
    fs.cpSync(RESOURCES, copy, { recursive: true });
    const weights = path.join(copy, 'models/mobilenet_v2_0.35_224/weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[1000] = bytes[1000]! ^ 0xff;
    fs.writeFileSync(weights, bytes);
    process.env.DERMFUSE_RESOURCES = copy;
    try {
      await expect(resolveBackbone('default')).rejects.toThrow(/built-in backbone .* does not match its checksum/);
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
