import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoOf } from '../../src/main/db/open.ts';
import { QualityRepo } from '../../src/main/db/repos/qualityRepo.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { exportBundle } from '../../src/main/ml/bundle/exportBundle.ts';
import { cutNetwork } from '../../src/main/ml/finetune/cut.ts';
import { finetuneRun, type FinetuneResult } from '../../src/main/ml/finetune/finetuneRun.ts';
import { buildTopNet } from '../../src/main/ml/finetune/topNet.ts';
import { trainFold, type FoldTask } from '../../src/main/ml/finetune/trainFold.ts';
import { fillViewCache } from '../../src/main/ml/finetune/viewCache.ts';
import { listViewCaches, removeViewCache } from '../../src/main/ml/finetune/cacheFolders.ts';
import type { ViewCacheInfo } from '../../src/shared/results.ts';
import { dihedralView } from '../../src/main/ml/finetune/views.ts';
import { predictWithRun } from '../../src/main/ml/fusion/runPredict.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { decodeForBackbone } from '../../src/main/ml/input/decode.ts';
import { normalise } from '../../src/main/ml/input/spec.ts';
import { readModel } from '../../src/main/ml/onnx/modelRead.ts';
import { encodeModel } from '../../src/main/ml/onnx/proto.ts';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';
import { Project } from '../../src/main/project.ts';
import { predictWithBundle } from '../../src/main/workflows/predict.ts';
import { tempDir } from '../fixtures/generate.ts';
import { finetuneProject } from '../fixtures/finetuneProject.ts';
import { BIN, runCli } from '../fixtures/cli.ts';

const tmp = tempDir();
let images: string;
let csv: string;
let model: string;
let project: Project;
let run: FinetuneResult;
const config = { label: 'dx', positive: ['mel'], fields: null, group: 'patient' as const, folds: 2, backbone: null, seed: 4 };

beforeAll(async () => {
  await initBackend();
  ({ project, images, csv, model } = await finetuneProject(tmp.dir));
  run = await finetuneRun(project, config, { epochs: 2 });
}, 300_000);
afterAll(() => {
  project.close();
  tmp.cleanup();
});

describe('fine-tuning the CNN', () => {
  it('cuts the network in its last quarter by default and trains that top on every fold of the frozen run', () => {
    const f = run.finetune;
    expect(f.cut).toBe('c6_out'); // the output of the strided block: the last block and the head conv are trained
    expect([f.trainedConvolutions, f.totalConvolutions]).toEqual([4, 11]);
    expect(f.bestEpochs).toHaveLength(2);
    expect(f.views).toBe(8);
    expect(run.images).toBe(48);
    for (const m of ['image', 'metadata', 'fused'] as const) {
      expect(run.modes[m].auc).toBeGreaterThan(0);
      expect(f.vsFrozen[m].ci[0]).toBeLessThanOrEqual(f.vsFrozen[m].ci[1]);
    }
    // The metadata model is the frozen run's own: fine-tuned minus frozen is exactly 0 there.
    expect(f.vsFrozen.metadata.difference).toBe(0);
    expect(f.frozen.image.auc).toBeCloseTo(run.modes.image.auc - f.vsFrozen.image.difference, 10);
  });

  it('dermfuse runs shows the fine-tuned run beside its frozen run, with the paired differences', () => {
    const out = runCli(['runs', project.dir]);
    expect(out.code).toBe(0);
    const line = out.stdout.split('\n').find((l) => l.startsWith(`#${run.runId} `))!;
    expect(line).toMatch(
      new RegExp(
        `; fine-tuned from c6_out vs frozen run #${run.finetune.baselineRunId}: image [+-]\\d\\.\\d{3} p [=<] [\\d.]+, fused [+-]\\d\\.\\d{3} p [=<] [\\d.]+$`,
      ),
    );
    expect(out.stdout.split('\n').find((l) => l.startsWith(`#${run.finetune.baselineRunId} `))).not.toContain('fine-tuned');
  });

  it('writes the tuned network back into ONNX with the views built in: ONNX Runtime equals the TF.js top on float32 activations', async () => {
    const tunedFile = path.join(project.dir, 'models', `finetuned-run-${run.runId}`, 'model.onnx');
    const tuned = readModel(fs.readFileSync(tunedFile)).graph;
    const base = readModel(fs.readFileSync(path.join(model, 'model.onnx')));
    const cut = cutNetwork(base.graph, 'features', null);
    const tunedWeights = new Map(tuned.initializers.map((t) => [t.name, t]));
    const top = { ...cut.top, weights: cut.top.weights.map((w) => tunedWeights.get(w.name)!) };
    // The tuned top differs from the pretrained one (it trained), and the trunk's weights are untouched.
    expect(cut.top.weights.some((w, i) => (w.data as Float32Array).some((v, j) => v !== (top.weights[i]!.data as Float32Array)[j]))).toBe(true);
    for (const w of cut.trunk.initializers) expect(Array.from(tunedWeights.get(w.name)!.data as Float32Array)).toEqual(Array.from(w.data as Float32Array));

    const pre = { inputSize: 32, scale: [0.0171, 0.0175, 0.0174], offset: [-2.1179, -2.0357, -1.8044], resize: 'squash' } as const;
    const files = fs.readdirSync(images).slice(0, 3);
    const x = new Float32Array(3 * 3 * 32 * 32);
    const views = new Float32Array(3 * 8 * 3 * 32 * 32);
    for (const [i, f] of files.entries()) {
      const px = new Uint8Array(await decodeForBackbone(path.join(images, f), { ...pre, scale: [...pre.scale], offset: [...pre.offset] }));
      x.set(normalise(px, { ...pre, scale: [...pre.scale], offset: [...pre.offset] }, 'nchw'), i * 3072);
      for (let v = 0; v < 8; v++)
        views.set(normalise(dihedralView(px, 32, v), { ...pre, scale: [...pre.scale], offset: [...pre.offset] }, 'nchw'), (i * 8 + v) * 3072);
    }
    const full = await ort.InferenceSession.create(tunedFile);
    const ortOut = (await full.run({ input: new ort.Tensor('float32', x, [3, 3, 32, 32]) }))[full.outputNames[0]!]!.data as Float32Array;
    const trunk = await ort.InferenceSession.create(encodeModel(cut.trunk, base.opset));
    const act = (await trunk.run({ input: new ort.Tensor('float32', views, [24, 3, 32, 32]) }))[cut.cut]!;
    const net = buildTopNet(top);
    const pooled = tf
      .tidy(() =>
        net
          .forward(tf.tensor4d(act.data as Float32Array, act.dims as [number, number, number, number]))
          .reshape([3, 8, 32])
          .mean(1),
      )
      .dataSync();
    net.dispose();
    let worst = 0;
    pooled.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ortOut[i]!))));
    expect(worst).toBeLessThan(1e-4);
  });

  it('exports a bundle whose predictions equal the run’s final model on the project’s images', async () => {
    const bundle = path.join(tmp.dir, 'bundle');
    await exportBundle(project, run.runId, 'fused', bundle);
    // The base network's licence and the tuned network's provenance travel with the weights, under the manifest.
    const manifest = JSON.parse(fs.readFileSync(path.join(bundle, 'manifest.json'), 'utf8')) as { files: Record<string, unknown> };
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['backbone/model.onnx', 'backbone/LICENSE', 'backbone/SOURCE.md']));
    expect(fs.readFileSync(path.join(bundle, 'backbone', 'SOURCE.md'), 'utf8')).toMatch(
      /fine-tuned by DermFuse run \d+: everything after `c6_out` \(4 of 11 convolutions\)/,
    );
    const s = await predictWithBundle(bundle, images, { metadataPath: csv, idColumn: 'image_id' });
    const w = predictWithRun(project, run.runId, 'fused');
    const byId = new Map(s.rows.map((r) => [r.imageId, r.probabilities.mel!]));
    let worst = 0;
    w.externalIds.forEach((id, i) => (worst = Math.max(worst, Math.abs(byId.get(id)! - w.probs[i * 2 + 1]!))));
    expect(w.externalIds).toHaveLength(48);
    expect(worst).toBeLessThan(1e-4);
  });

  it('keeps the cached views: a second fine-tuned run reads them instead of running the trunk again', async () => {
    const dirs = fs.readdirSync(path.join(project.dir, 'cache', 'finetune'));
    expect(dirs).toHaveLength(1);
    const index = fs
      .readFileSync(path.join(project.dir, 'cache', 'finetune', dirs[0]!, 'index.txt'), 'utf8')
      .trim()
      .split('\n');
    expect(index).toHaveLength(48);
    // A torn record (a kill mid-write) is cut off on the next open; the images before it stay.
    const data = path.join(project.dir, 'cache', 'finetune', dirs[0]!, 'views.f16');
    fs.appendFileSync(data, Buffer.alloc(100));
    fs.appendFileSync(path.join(project.dir, 'cache', 'finetune', dirs[0]!, 'index.txt'), 'abc');
    const again = await finetuneRun(project, config, { epochs: 1 });
    // The torn tail was cut off and nothing appended: the size of 48 records again.
    expect(fs.statSync(data).size).toBe(48 * 8 * 12 * 8 * 8 * 2);
    // The frozen run of the same configuration on unchanged data is reused as the baseline, not trained again.
    expect(again.finetune.baselineRunId).toBe(run.finetune.baselineRunId);
    expect(
      fs
        .readFileSync(path.join(project.dir, 'cache', 'finetune', dirs[0]!, 'index.txt'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(48);
  }, 300_000);

  it('trains on random crops and colours too when asked, averaging only the flips and turns: the bundle predicts what the run does', async () => {
    const aug = await finetuneRun(project, config, { epochs: 1, views: 2, augment: ['jitter', 'crops'] });
    expect(aug.finetune.augment).toEqual(['crops', 'jitter']);
    expect(JSON.parse(project.db.prepare('SELECT config FROM runs WHERE id = ?').pluck().get(aug.runId) as string).finetune.augment).toEqual([
      'crops',
      'jitter',
    ]);
    // A cache of its own beside the plain one: 2 flips/turns and 2 random views per image.
    const caches = fs.readdirSync(path.join(project.dir, 'cache', 'finetune')).map((d) => path.join(project.dir, 'cache', 'finetune', d, 'views.f16'));
    expect(caches.map((f) => fs.statSync(f).size).sort((a, b) => a - b)).toEqual([48 * 4 * 12 * 8 * 8 * 2, 48 * 8 * 12 * 8 * 8 * 2]);
    // The exported network averages the 2 flips/turns, as the run's test predictions did: no random view is in them.
    const bundle = path.join(tmp.dir, 'bundle-augmented');
    await exportBundle(project, aug.runId, 'image', bundle);
    const s = await predictWithBundle(bundle, images, { metadataPath: csv, idColumn: 'image_id' });
    const w = predictWithRun(project, aug.runId, 'image');
    const byId = new Map(s.rows.map((r) => [r.imageId, r.probabilities.mel!]));
    let worst = 0;
    w.externalIds.forEach((id, i) => (worst = Math.max(worst, Math.abs(byId.get(id)! - w.probs[i * 2 + 1]!))));
    expect(worst).toBeLessThan(1e-4);
  }, 300_000);

  it('averages only the flips and turns for validation and test: random views beside them in the cache change no prediction', async () => {
    const base = readModel(fs.readFileSync(path.join(model, 'model.onnx')));
    const cut = cutNetwork(base.graph, 'features', null);
    const pre = {
      inputSize: 32,
      scale: [0.0171, 0.0175, 0.0174] as [number, number, number],
      offset: [-2.1179, -2.0357, -1.8044] as [number, number, number],
      resize: 'squash' as const,
    };
    const files = fs.readdirSync(images).slice(0, 8);
    const some = files.map((f, i) => ({ sha: String(i).repeat(64), path: path.join(images, f) }));
    const fill = (name: string, augment: ('crops' | 'jitter')[]) =>
      fillViewCache(path.join(tmp.dir, name), some, {
        trunk: encodeModel(cut.trunk, base.opset),
        inputName: 'input',
        cut: cut.cut,
        pre,
        views: 2,
        augment,
        threads: 1,
      });
    const [plain, augmented] = [await fill('views-plain', []), await fill('views-augmented', ['crops', 'jitter'])];
    // No epoch trained: both caches give the network its starting weights, so only the averaged views can differ.
    const task = (testViews: number): FoldTask => ({
      top: cut.top,
      records: some.map((im) => plain.recordOf(im.sha)!),
      labels: Int32Array.from(some, (_, i) => i % 2),
      classes: 2,
      meta: new Float32Array(some.length),
      metaDim: 0,
      groups: some.map((_, i) => `p${i}`),
      shas: some.map((im) => im.sha),
      train: [0, 1, 2, 3, 4, 5],
      test: [6, 7],
      testViews,
      epochs: 0,
      seed: 3,
      keepModel: false,
    });
    const none = async () => {};
    const fromPlain = await trainFold(plain, task(2), none);
    const fromAugmented = await trainFold(augmented, task(2), none);
    expect(Array.from(fromAugmented.image)).toEqual(Array.from(fromPlain.image));
    // The check can fail: averaging the random views too gives other probabilities.
    const all = await trainFold(augmented, task(4), none);
    expect(Array.from(all.image)).not.toEqual(Array.from(fromPlain.image));
    plain.close();
    augmented.close();
  });

  it('trains the whole network from its input (the stem convolution too) and caches the preprocessed views', async () => {
    const whole = await finetuneRun(project, config, { from: 'input', epochs: 1, views: 2 });
    expect([whole.finetune.trainedConvolutions, whole.finetune.totalConvolutions]).toEqual([11, 11]);
    expect(whole.finetune.views).toBe(2);
    expect(whole.modes.image.auc).toBeGreaterThan(0);
  }, 300_000);

  it('stops when cancelled, leaving the run marked cancelled and the cached views in place', async () => {
    const stop = new AbortController();
    const phases: string[] = [];
    const cancelled = finetuneRun(project, config, {
      epochs: 5,
      signal: stop.signal,
      onProgress: (p) => {
        phases.push(p.phase);
        if (p.phase === 'fine-tuning' && p.done > 0) stop.abort(); // after an epoch: the workers are mid-fold
      },
    });
    await expect(cancelled).rejects.toThrow(/cancelled/i);
    expect(phases).toContain('caching views');
    const last = project.db.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').get() as { status: string };
    expect(last.status).toBe('cancelled');
  }, 300_000);

  it('survives kill -9 while fine-tuning: the run is marked interrupted, and a new one reuses the frozen run and the cached views', async () => {
    project.close();
    const child = spawn(
      process.execPath,
      [BIN, 'train', project.dir, '--label', 'dx', '--positive', 'mel', '--folds', '2', '--seed', '4', '--finetune', '--epochs', '6'],
      {
        env: { ...process.env, DERMFUSE_PROGRESS: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let said = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (b: Buffer) => {
        said += b.toString();
        if (said.includes(': epoch ')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`the command ended before fine-tuning: ${said.slice(-500)}`)));
    });
    await new Promise((r) => child.once('exit', r));
    project = Project.open(project.dir);
    const runs = project.db.prepare('SELECT id, status FROM runs ORDER BY id DESC LIMIT 2').all() as { id: number; status: string }[];
    expect(runs[0]!.status).toBe('interrupted');
    // The default run's cache (8 views of 12 x 8 x 8 per image) among those of the runs above: by its shape, as the
    // whole-network run's cache (2 views of 3 x 32 x 32) holds as many bytes.
    const cacheDir = fs
      .readdirSync(path.join(project.dir, 'cache', 'finetune'))
      .map((d) => path.join(project.dir, 'cache', 'finetune', d))
      .find((d) => fs.readFileSync(path.join(d, 'shape.json'), 'utf8').replace(/\s/g, '') === '{"dims":[12,8,8],"views":8}')!;
    expect(cacheDir).toBeDefined();
    const before = fs.statSync(path.join(cacheDir, 'views.f16'));
    const resumed = await finetuneRun(project, config, { epochs: 1 });
    expect(resumed.finetune.baselineRunId).toBe(run.finetune.baselineRunId);
    // Nothing was appended to the cache: the trunk did not run again.
    const after = fs.statSync(path.join(cacheDir, 'views.f16'));
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
  }, 300_000);

  it('refuses a cut the network does not have, naming the cut points it does', async () => {
    await expect(finetuneRun(project, config, { from: 'no_such_layer' })).rejects.toThrow(/no such tensor or layer.*Cut points near the end: .*c6_out/s);
  });

  it('does not train a frozen run on the fine-tuned network’s features (they have seen the labels)', async () => {
    await expect(trainRun(project, { ...config, backbone: run.finetune.tunedBackbone })).rejects.toThrow(/fine-tuned on this project's labels/);
    // Unnamed, a run takes the newest pretrained backbone, not the fine-tuned one.
    const plain = await trainRun(project, config);
    expect(plain.backbone).not.toBe(run.finetune.tunedBackbone);
  }, 120_000);
  it('trains a new frozen run when the groups changed since the finished one (its folds would split a patient)', async () => {
    // Two images of different patients, in different folds of the frozen run, confirmed as the same lesion.
    const rows = project.db.prepare('SELECT image_id AS id, fold FROM run_predictions WHERE run_id = ? ORDER BY image_id').all(run.finetune.baselineRunId) as {
      id: number;
      fold: number;
    }[];
    const a = rows.find((r) => r.fold === 0)!;
    const b = rows.find((r) => r.fold === 1)!;
    repoOf(project.db, QualityRepo).review([{ a: a.id, b: b.id }], 'same', 'test');
    const newest = project.db.prepare('SELECT MAX(id) FROM runs').pluck().get() as number;
    const again = await finetuneRun(project, config, { epochs: 1 });
    // Its baseline is a frozen run trained now, not one of the finished ones (the snapshot of the data is unchanged).
    expect(again.finetune.baselineRunId).toBeGreaterThan(newest);
    const folds = project.db.prepare('SELECT fold FROM run_predictions WHERE run_id = ? AND image_id IN (?, ?)').pluck().all(again.runId, a.id, b.id);
    expect(new Set(folds).size).toBe(1);
  }, 300_000);
  it('refuses a network with an operation it cannot train before training anything, naming the node', async () => {
    // The tiny network with its head's activation swapped for Softplus: ONNX Runtime runs it, the top cannot train it.
    const { graph, opset } = readModel(fs.readFileSync(path.join(model, 'model.onnx')));
    graph.nodes.filter((n) => n.op === 'Relu').at(-1)!.op = 'Softplus';
    const odd = path.join(tmp.dir, 'softplus');
    fs.cpSync(model, odd, { recursive: true });
    fs.writeFileSync(path.join(odd, 'model.onnx'), encodeModel(graph, opset));
    const sidecar = path.join(odd, 'dermfuse-backbone.json');
    fs.writeFileSync(sidecar, fs.readFileSync(sidecar, 'utf8').replace('"tiny-mobilenet"', '"tiny-softplus"'));
    await extractFeatures(project, odd, { workers: 1 });
    const before = project.db.prepare('SELECT COUNT(*) FROM runs').pluck().get();
    await expect(finetuneRun(project, { ...config, backbone: 'tiny-softplus' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/cannot be fine-tuned from this cut: Softplus node .* is not an operation DermFuse can train/),
    });
    // No frozen run was trained for it, and nothing was cached.
    expect(project.db.prepare('SELECT COUNT(*) FROM runs').pluck().get()).toBe(before);
    expect(fs.readdirSync(path.join(project.dir, 'cache', 'finetune')).filter((d) => d.startsWith('tiny-softplus'))).toEqual([]);
  }, 120_000);
  it('lists the view caches with what they hold, refuses to remove one a living run uses, and removes one by name', async () => {
    const listed = (args: string[] = []) => {
      const out = runCli(['caches', project.dir, ...args, '--json']);
      return { ...out, json: out.code === 0 ? (JSON.parse(out.stdout) as { removed: string[]; freedBytes: number; caches: ViewCacheInfo[] }) : null };
    };
    const root = path.join(project.dir, 'cache', 'finetune');
    const marks = () => fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => /^use\.\d+$/.test(f)));
    // The kill -9 run above left its use mark (a dead pid); a crash of a process with this pid would leave one too.
    expect(marks()).toHaveLength(1);
    const dead = fs.readdirSync(root).find((d) => fs.readdirSync(path.join(root, d)).some((f) => f.startsWith('use.')))!;
    fs.writeFileSync(path.join(root, dead, `use.${process.pid}`), '');
    expect(listViewCaches(project.dir).every((c) => !c.busy)).toBe(true);
    // Neither counts as a holder, and both are deleted on the way.
    expect(marks()).toEqual([]);
    const all = listed().json!.caches;
    // The default cut's cache, written by the runs above.
    const plain = all.find((c) => c.cut === 'c6_out' && c.views === 8 && c.augment.length === 0)!;
    expect(plain).toMatchObject({ backbone: 'tiny-mobilenet', images: 48, busy: false });
    expect(plain.bytes).toBeGreaterThanOrEqual(48 * 8 * 12 * 8 * 8 * 2);
    expect(all.map((c) => c.name)).toEqual(listViewCaches(project.dir).map((c) => c.name));
    expect(all.find((c) => c.cut === 'input')).toMatchObject({ views: 2, images: 48 });

    // A living process's use mark: listed as in use, and neither --remove nor --remove-all takes it.
    const holder = spawn('sleep', ['60']);
    try {
      fs.writeFileSync(path.join(project.dir, 'cache', 'finetune', plain.name, `use.${holder.pid}`), '');
      expect(listed().json!.caches.find((c) => c.name === plain.name)!.busy).toBe(true);
      const refused = runCli(['caches', project.dir, '--remove', plain.name]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`in use by process ${holder.pid} (a fine-tuned run)`);
      const swept = listed(['--remove-all']).json!;
      expect(swept.caches.map((c) => c.name)).toEqual([plain.name]);
      expect(swept.removed.sort()).toEqual(
        all
          .filter((c) => c.name !== plain.name)
          .map((c) => c.name)
          .sort(),
      );
    } finally {
      holder.kill();
    }
    await new Promise((r) => holder.once('exit', r));

    // Names that are not a cache folder of this project reach nothing.
    const around = () => [fs.readdirSync(project.dir).sort(), fs.readdirSync(root).sort(), fs.readdirSync(outside)];
    // A link among the caches is not one: not listed, not followed, not removed.
    const outside = path.join(tmp.dir, 'not-a-cache');
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, 'keep.txt'), 'x');
    fs.symlinkSync(outside, path.join(root, 'linked'));
    expect(listViewCaches(project.dir).map((c) => c.name)).not.toContain('linked');
    const kept = around();
    for (const bad of ['..', '../..', 'a/b', plain.name + '/..', 'nope', 'linked', '.hidden']) {
      const out = runCli(['caches', project.dir, '--remove', bad]);
      expect(out.code, bad).not.toBe(0);
      expect(out.stderr).toMatch(/No view cache/);
    }
    expect(around()).toEqual(kept);
    fs.rmSync(path.join(root, 'linked'));

    const gone = listed(['--remove', plain.name]).json!;
    expect(gone).toMatchObject({ removed: [plain.name], caches: [] });
    expect(gone.freedBytes).toBe(plain.bytes);
    expect(fs.existsSync(path.join(project.dir, 'cache', 'finetune', plain.name))).toBe(false);
    // The next run of those settings caches again, and its cache is listed as used just now, not in use.
    const before = Date.now();
    // (Named: the newest features are the Softplus network's, from the test above.)
    const tiny = { ...config, backbone: 'tiny-mobilenet' };
    // While it runs (from its frozen run on), its cache cannot be removed from this process either.
    let refusal: unknown = null;
    await finetuneRun(project, tiny, {
      epochs: 1,
      onProgress: (p) => {
        if (p.phase !== 'frozen' || refusal) return;
        try {
          removeViewCache(project.dir, plain.name);
        } catch (e) {
          refusal = e;
        }
      },
    });
    expect(refusal).toMatchObject({ code: 'BUSY', message: expect.stringMatching(/in use by the fine-tuned run going on here/) });
    // A run cancelled before it cached anything leaves no empty cache of its settings behind.
    const stop = new AbortController();
    await expect(
      finetuneRun(project, tiny, { views: 4, epochs: 1, signal: stop.signal, onProgress: (p) => p.phase === 'frozen' && stop.abort() }),
    ).rejects.toThrow(/cancelled/i);
    const again = listViewCaches(project.dir);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ name: plain.name, images: 48, busy: false });
    expect(Date.parse(again[0]!.lastUsed!)).toBeGreaterThanOrEqual(before - 1000);
  }, 300_000);
});
