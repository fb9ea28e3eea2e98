/**
 * A fine-tuned run: the frozen run of the same configuration first (its folds are the fine-tuned run's folds),
 * then the top of its backbone trained per outer fold on cached views, the final network on every image written
 * as an ONNX backbone of the project, and the run stored like any other, with frozen vs fine-tuned side by side.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import { finetunedBackboneName } from '../../../shared/backbone.ts';
import { AUGMENTS, type Augment, type Comparison, type FinetuneReport } from '../../../shared/results.ts';
import { FINETUNE_DEFAULTS } from '../../../shared/jobs.ts';
import { repoOf } from '../../db/open.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';
import { ImagesRepo } from '../../db/repos/imagesRepo.ts';
import { RunsRepo } from '../../db/repos/runsRepo.ts';
import type { ProgressFn } from '../../jobs/progress.ts';
import { logger } from '../../log.ts';
import type { Project } from '../../project.ts';
import { backboneDigest, NOTICE_FILES } from '../backbone/resolve.ts';
import { extractFeatures } from '../backbone/extract.ts';
import { DEFAULT_BATCH_SIZE } from '../backbone/embedFiles.ts';
import { MODES, type CrossValResult, type Mode } from '../fusion/crossval.ts';
import { loadDataset, TrainConfigSchema, type TrainConfig } from '../fusion/dataset.ts';
import { evaluate } from '../fusion/evaluate.ts';
import { auc, groupBootstrapSamples, percentileInterval, subset } from '../fusion/metrics.ts';
import { runModels } from '../fusion/runs.ts';
import { loadRunData } from '../fusion/runData.ts';
import { encodeRows, fitEncoder } from '../fusion/tabular.ts';
import { modeFigures, storeRun, trainRun, type RunResult } from '../fusion/train.ts';
import { readModel } from '../onnx/modelRead.ts';
import { encodeModel } from '../onnx/proto.ts';
import { identityPca } from '../stats/pca.ts';
import type { BackendName } from '../tfjs/backend.ts';
import { BOOTSTRAP_RESAMPLES } from '../fusion/evaluate.ts';
import { AUGMENT_SETTINGS, cachedViewCount } from './augment.ts';
import { useViewCache, viewCacheRoot } from './cacheFolders.ts';
import { cutNetwork } from './cut.ts';
import { FOLD_WORKERS, FoldPool } from './foldPool.ts';
import type { FoldTask } from './trainFold.ts';
import { TUNED_OUTPUT, tunedGraph } from './tunedModel.ts';

const log = logger('finetune');

export interface FinetuneOptions {
  /** Tensor, layer or "input" to train from; null: the default cut (the last quarter of the convolutions). */
  from?: string | null;
  views?: number;
  /** Random training views beside the flips and turns (augment.ts): as many again, never averaged at test time. */
  augment?: readonly Augment[];
  epochs?: number;
  backend?: BackendName;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface FinetuneResult extends RunResult {
  finetune: FinetuneReport;
}

/** AUC of `a` minus `b` on the same images, with a paired patient-bootstrap interval and two-sided p. */
function pairedAuc(a: Float64Array, b: Float64Array, labels: Int32Array, classes: number, groups: string[], seed: number): Comparison {
  const pa = { probs: a, classes, labels };
  const pb = { probs: b, classes, labels };
  const diffs = groupBootstrapSamples(groups, BOOTSTRAP_RESAMPLES, seed)
    .map((s) => auc(subset(pa, s)) - auc(subset(pb, s)))
    .filter((x) => !Number.isNaN(x));
  const below = diffs.filter((x) => x <= 0).length / diffs.length;
  const above = diffs.filter((x) => x >= 0).length / diffs.length;
  return { difference: auc(pa) - auc(pb), ci: percentileInterval(diffs), p: Math.min(1, 2 * Math.min(below, above)) };
}

/** Keys sorted, so two objects written in another order compare equal as JSON. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );

/**
 * Whether a run's folds still hold every image of the data with each group in one fold: groups change with
 * near-duplicate reviews and patient or lesion relinks, which the data snapshot does not record.
 */
function foldsKeepGroups(base: { imageIds: number[]; fold: ArrayLike<number> }, ds: { imageIds: number[]; groups: string[] }): boolean {
  const foldOf = new Map(base.imageIds.map((id, i) => [id, base.fold[i]!]));
  const groupFold = new Map<string, number>();
  return ds.imageIds.every((id, i) => {
    const f = foldOf.get(id);
    const g = groupFold.get(ds.groups[i]!);
    if (f === undefined || (g !== undefined && g !== f)) return false;
    groupFold.set(ds.groups[i]!, f);
    return true;
  });
}

/** The newest finished frozen run with this configuration and this snapshot of the data, if any. */
function findFrozenRun(project: Project, cfg: TrainConfig, snapshot: object): RunResult | null {
  const want = canonical(TrainConfigSchema.parse(cfg));
  const data = canonical(snapshot);
  for (const row of repoOf(project.db, RunsRepo).list()) {
    if (row.status !== 'done' || !row.result || canonical(JSON.parse(row.snapshot)) !== data) continue;
    const { fieldsUsed: _f, finetune, ...rest } = JSON.parse(row.config) as { fieldsUsed?: unknown; finetune?: unknown };
    if (finetune !== undefined) continue;
    const parsed = TrainConfigSchema.safeParse(rest);
    if (parsed.success && canonical(parsed.data) === want) return JSON.parse(row.result) as RunResult;
  }
  return null;
}

export async function finetuneRun(project: Project, cfg: TrainConfig, o: FinetuneOptions = {}): Promise<FinetuneResult> {
  const started = performance.now();
  const views = o.views ?? FINETUNE_DEFAULTS.views;
  const augment = AUGMENTS.filter((a) => o.augment?.includes(a));
  // Training draws from every cached view, testing averages the flips and turns (the first `views`).
  const cachedViews = cachedViewCount(views, augment);
  const epochs = o.epochs ?? FINETUNE_DEFAULTS.epochs;
  if (![1, 2, 4, 8].includes(views)) throw new DermFuseError('INVALID_ARGUMENT', `--views ${views}: 1, 2, 4 or 8 (the flips and quarter turns).`);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 200) throw new DermFuseError('INVALID_ARGUMENT', `--epochs ${epochs}: a whole number from 1 to 200.`);
  const report = (phase: string, done: number, total: number, message: string) => o.onProgress?.({ phase, done, total, message });

  // The backbone must be an ONNX network that can be cut: checked before the frozen run spends any time.
  const store = repoOf(project.db, FeatureStore);
  const probe = loadDataset(project, cfg);
  const key = probe.snapshot.backboneKey;
  if (key.includes('+')) throw new DermFuseError('INVALID_ARGUMENT', 'Fine-tuning trains one backbone: name one with --backbone.');
  const spec = store.backbone(key)?.spec;
  if (!spec) throw new DermFuseError('NOT_FOUND', `No backbone ${key} in this project.`);
  if (spec.format !== 'onnx' || !spec.onnx)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `Fine-tuning needs an ONNX backbone; ${spec.name} is a TF.js model. Name an ONNX one with --backbone (see dermfuse features), or extract features with the default backbone (MobileNetV2-1.0, ONNX) first.`,
    );
  const modelFile = path.join(spec.dir, spec.onnx.file);
  if (!fs.existsSync(modelFile)) throw new DermFuseError('NOT_FOUND', `The backbone's model file ${modelFile} is missing.`);
  const { graph, opset } = readModel(await fs.promises.readFile(modelFile));
  const output = spec.featureLayer ?? graph.outputs[0]!.name;
  const cut = cutNetwork(graph, output, o.from ?? null);

  const pool = new FoldPool(FOLD_WORKERS, o.signal);
  const runs = repoOf(project.db, RunsRepo);
  let runId: number | null = null;
  let tunedDir: string | null = null;
  let tunedFeatures = false;
  let releaseCache = (): void => {};
  try {
    // Every operation of the top must be one DermFuse can train: found out before the frozen run spends any time.
    await pool.check(cut.top, o.backend);

    // The cache this run will use, marked now: it cannot be removed while the frozen run trains before caching.
    const digest = await backboneDigest(spec);
    const cacheKey = createHash('sha256')
      .update(JSON.stringify({ digest, cut: cut.cut, pre: spec.preprocessing, views, ...(augment.length > 0 ? { augment: AUGMENT_SETTINGS(augment) } : {}) }))
      .digest('hex')
      .slice(0, 16);
    const cacheDir = path.join(viewCacheRoot(project.dir), `${spec.name}-${cacheKey}`);
    releaseCache = useViewCache(cacheDir, { backbone: spec.name, cut: cut.cut, views, augment });

    // A finished frozen run of this configuration on the same data (a fine-tuned run killed or cancelled after it,
    // run again) is its baseline as it stands, if its folds still keep each group whole; otherwise one is trained now.
    let reused = findFrozenRun(project, cfg, probe.snapshot);
    let base = reused ? loadRunData(project, reused.runId) : null;
    if (reused && !foldsKeepGroups(base!, probe)) {
      log.info(`frozen run ${reused.runId} not reused: its folds split ${cfg.group}s as they are grouped now`);
      reused = null;
      base = null;
    }
    const frozen: RunResult =
      reused ??
      (await trainRun(project, cfg, {
        backend: o.backend,
        signal: o.signal,
        onProgress: (p) => report('frozen', p.done, p.total, `frozen run: ${p.message ?? ''}`),
      }));
    if (reused) report('frozen', 1, 1, `frozen run ${reused.runId} of the same configuration and data reused`);
    // A reused run's data is the probe's (the same snapshot); after training one, the data as it is now.
    const ds = reused ? probe : loadDataset(project, cfg);
    base ??= loadRunData(project, frozen.runId);
    const foldOf = new Map(base.imageIds.map((id, i) => [id, base.fold[i]!]));
    const rowOfBase = new Map(base.imageIds.map((id, i) => [id, i]));
    const fold = Int32Array.from(ds.imageIds, (id) => {
      const f = foldOf.get(id);
      if (f === undefined) throw new DermFuseError('INTERNAL', `image ${id} is not in the frozen run ${frozen.runId}`);
      return f;
    });
    const fields = frozen.fieldsUsed.map((name) => ds.fields.find((f) => f.name === name)!);
    const cols = fields.map((f) => ds.fields.indexOf(f));
    const metaRows = ds.meta.map((r) => cols.map((j) => r[j] ?? null));
    const C = ds.classes.length;

    const pathOf = new Map(
      repoOf(project.db, ImagesRepo)
        .distinctContents()
        .map((r) => [r.sha256, r.path]),
    );
    const images = [...new Set(ds.shas)].map((sha) => ({ sha, path: pathOf.get(sha)! }));

    const tCache = performance.now();
    const trunkBytes = cut.cut === graph.inputs[0]!.name ? null : encodeModel(cut.trunk, opset);
    await pool.cache(
      {
        type: 'cache',
        dir: cacheDir,
        images,
        trunk: trunkBytes,
        inputName: graph.inputs[0]!.name,
        cut: cut.cut,
        pre: spec.preprocessing,
        views,
        augment,
        threads: FOLD_WORKERS,
      },
      (done, total) =>
        report(
          'caching views',
          done,
          total,
          `caching ${cachedViews} views of the frozen trunk${augment.length > 0 ? ` (${views} flips/turns, ${views} ${augment.join(' + ')})` : ''}: ${done} of ${total} images`,
        ),
    );
    const cacheSeconds = (performance.now() - tCache) / 1000;
    const { ViewCache } = await import('./viewCache.ts');
    const cache = ViewCache.open(cacheDir, null);
    const records = ds.shas.map((sha) => cache.recordOf(sha)!);
    cache.close();

    runId = runs.start(
      JSON.stringify({
        ...cfg,
        fieldsUsed: frozen.fieldsUsed,
        finetune: { from: o.from ?? null, cut: cut.cut, views, ...(augment.length > 0 ? { augment } : {}), epochs, baselineRunId: frozen.runId },
      }),
      JSON.stringify(ds.snapshot),
    );
    const all = Array.from({ length: ds.labels.length }, (_, i) => i);
    const taskFor = (train: number[], test: number[], seed: number, keepModel: boolean): FoldTask => {
      const encoder = fitEncoder(
        fields,
        train.map((i) => metaRows[i]!),
      );
      return {
        top: cut.top,
        records,
        labels: ds.labels,
        classes: C,
        meta: encodeRows(encoder, metaRows),
        metaDim: encoder.width,
        groups: ds.groups,
        shas: ds.shas,
        train,
        test,
        testViews: views,
        epochs,
        seed,
        keepModel,
      };
    };
    const tasks: FoldTask[] = [];
    for (let f = 0; f < cfg.folds; f++)
      tasks.push(
        taskFor(
          all.filter((i) => fold[i] !== f),
          all.filter((i) => fold[i] === f),
          cfg.seed + f,
          false,
        ),
      );
    tasks.push(taskFor(all, [], cfg.seed + 1000, true));
    const finalEncoder = fitEncoder(fields, metaRows);
    const epochDone = new Array<number>(tasks.length).fill(0);
    const tTrain = performance.now();
    // Said at once: the first epoch of a fold can take a minute, and the workers' memory is taken now, not after it.
    report(
      'fine-tuning',
      0,
      tasks.length * epochs,
      `training the top and the heads: ${tasks.length} fits of at most ${epochs} epochs on ${FOLD_WORKERS} workers`,
    );
    const { results, backend } = await pool.folds(cacheDir, tasks, o.backend, (task, epoch, total, loss) => {
      epochDone[task] = epoch;
      const name = task < cfg.folds ? `fold ${task + 1} of ${cfg.folds}` : 'final network on all images';
      report(
        'fine-tuning',
        epochDone.reduce((a, b) => a + b, 0),
        tasks.length * epochs,
        `${name}: epoch ${epoch} of ${total}${loss === null ? '' : `, validation loss ${loss.toFixed(4)}`}`,
      );
    });
    const trainSeconds = (performance.now() - tTrain) / 1000;

    // Out-of-fold predictions: image and fused from the fine-tuned fits, metadata from the frozen run (same folds).
    const oof: Record<Mode, Float64Array> = {
      image: new Float64Array(ds.labels.length * C),
      metadata: new Float64Array(ds.labels.length * C),
      fused: new Float64Array(ds.labels.length * C),
    };
    const frozenOof: Record<Mode, Float64Array> = {
      image: new Float64Array(ds.labels.length * C),
      metadata: new Float64Array(ds.labels.length * C),
      fused: new Float64Array(ds.labels.length * C),
    };
    ds.imageIds.forEach((id, i) => {
      const r = rowOfBase.get(id)!;
      for (const m of MODES) frozenOof[m].set(base.probs[m].subarray(r * C, (r + 1) * C), i * C);
    });
    oof.metadata.set(frozenOof.metadata);
    const thresholds: CrossValResult['thresholds'] = [];
    for (let f = 0; f < cfg.folds; f++) {
      const test = tasks[f]!.test;
      test.forEach((i, k) => {
        oof.image.set(results[f]!.image.subarray(k * C, (k + 1) * C), i * C);
        oof.fused.set(results[f]!.fused.subarray(k * C, (k + 1) * C), i * C);
      });
      thresholds.push({ image: results[f]!.thresholds.image, metadata: frozen.foldThresholds?.[f]?.metadata ?? 0.5, fused: results[f]!.thresholds.fused });
    }
    const fin = results[cfg.folds]!;
    const frozenModels = runModels(project, frozen.runId);
    if (frozenModels.encoder.width !== finalEncoder.width) throw new DermFuseError('INTERNAL', 'the frozen run encoded the metadata differently');

    // The final network as an ONNX backbone of the project, then its features for every image (what predict uses).
    const dim = fin.heads!.image.imageDim;
    tunedDir = path.join(project.dir, 'models', `finetuned-run-${runId}`);
    fs.mkdirSync(tunedDir, { recursive: true });
    // A weight both parts read (e.g. Clip's bounds) is written once.
    const inTrunk = new Set(cut.trunk.initializers.map((t) => t.name));
    const topOnly = cut.top.weights.filter((w) => !inTrunk.has(w.name));
    const baseGraph = { ...graph, nodes: [...cut.trunk.nodes, ...cut.top.nodes], initializers: [...cut.trunk.initializers, ...topOnly] };
    await fs.promises.writeFile(path.join(tunedDir, 'model.onnx'), encodeModel(tunedGraph(baseGraph, output, dim, fin.weights!, views, opset), opset));
    await fs.promises.writeFile(
      path.join(tunedDir, 'dermfuse-backbone.json'),
      JSON.stringify({
        name: finetunedBackboneName(spec.name, runId),
        format: 'onnx',
        featureLayer: TUNED_OUTPUT,
        onnx: { file: 'model.onnx', input: null, layout: 'nchw' },
        preprocessing: spec.preprocessing,
      }),
    );
    // Its weights are the pretrained network's, changed: their licence and provenance go with them.
    const [licence, source] = NOTICE_FILES;
    if (fs.existsSync(path.join(spec.dir, licence))) fs.copyFileSync(path.join(spec.dir, licence), path.join(tunedDir, licence));
    if (fs.existsSync(path.join(spec.dir, source))) fs.copyFileSync(path.join(spec.dir, source), path.join(tunedDir, `BASE-${source}`));
    await fs.promises.writeFile(
      path.join(tunedDir, 'SOURCE.md'),
      `# ${finetunedBackboneName(spec.name, runId)}\n\n${spec.name} fine-tuned by DermFuse run ${runId}: everything after \`${cut.cut}\` (${cut.topConvs} of ${cut.totalConvs} convolutions) trained on this project's labelled photos (${ds.labels.length} images, best epoch ${fin.bestEpoch}), the other weights unchanged. The ${views} flips/quarter turns of the input are averaged inside the model. The base network's licence applies (LICENSE; its provenance: BASE-SOURCE.md when it had one).\n`,
    );
    const extracted = await extractFeatures(project, tunedDir, {
      // Each image runs as `views` inputs: fewer images a batch keep ONNX Runtime's buffers the size of a plain one's.
      batchSize: Math.max(1, Math.floor(DEFAULT_BATCH_SIZE / views)),
      backend: o.backend,
      signal: o.signal,
      onProgress: (p) => report('tuned features', p.done, p.total, `features of the fine-tuned network: ${p.done} of ${p.total}`),
    });
    tunedFeatures = true;

    runs.resnapshot(runId, JSON.stringify({ ...ds.snapshot, backboneKey: extracted.key }));
    const cv: CrossValResult = {
      timings: { pca: 0, heads: trainSeconds, selection: 0, evaluation: 0 },
      fold,
      oof,
      thresholds,
      fusionPerFold: tasks.slice(0, cfg.folds).map(() => 'fine-tuned concat'),
      headsPerFold: tasks.slice(0, cfg.folds).map((_, f) => `image linear, best epoch ${results[f]!.bestEpoch}`),
      innerScores: results.slice(0, cfg.folds).map((r) => ({ bestEpoch: r.bestEpoch, epochsRun: r.epochsRun, validationLoss: Math.min(...r.validationLoss) })),
      permuted: {},
      final: {
        pca: identityPca(dim),
        encoder: finalEncoder,
        image: fin.heads!.image,
        metadata: frozenModels.metadata,
        fusion: { kind: 'concat' },
        fused: fin.heads!.fused,
        thresholds: { image: fin.thresholds.image, metadata: frozenModels.thresholds.metadata, fused: fin.thresholds.fused },
      },
    };
    const evaluation = evaluate(cv, ds.labels, ds.classes, ds.groups, cfg.seed);
    const ev = evaluation.modes;
    const vsFrozen = Object.fromEntries(MODES.map((m) => [m, pairedAuc(oof[m], frozenOof[m], ds.labels, C, ds.groups, cfg.seed)])) as Record<Mode, Comparison>;
    const finetune: FinetuneReport = {
      baselineRunId: frozen.runId,
      backbone: spec.name,
      cut: cut.cut,
      trainedConvolutions: cut.topConvs,
      totalConvolutions: cut.totalConvs,
      views,
      augment,
      epochs,
      bestEpochs: results.slice(0, cfg.folds).map((r) => r.bestEpoch),
      finalBestEpoch: fin.bestEpoch,
      samplesPerSecond: results.reduce((a, r) => a + r.samplesPerSecond, 0) / results.length,
      cacheSeconds,
      trainSeconds,
      workers: FOLD_WORKERS,
      tunedBackbone: extracted.key,
      frozen: frozen.modes,
      vsFrozen,
    };
    const result: FinetuneResult = {
      ...frozen,
      runId,
      groups: new Set(ds.groups).size,
      backbone: extracted.key,
      fusion: 'fine-tuned concat',
      fusionPerFold: cv.fusionPerFold,
      heads: 'fine-tuned top + linear heads',
      headsPerFold: cv.headsPerFold,
      modes: modeFigures(evaluation),
      fusedVsImage: evaluation.fusedVsImage,
      fusedVsMetadata: evaluation.fusedVsMetadata,
      fusedBeatsBoth: ev.fused.auc > ev.image.auc && ev.fused.auc > ev.metadata.auc,
      seconds: (performance.now() - started) / 1000,
      timings: cv.timings,
      backend: backend.backend,
      evaluation,
      innerScores: cv.innerScores,
      foldThresholds: thresholds,
      importance: undefined,
      finetune,
    };
    storeRun(project, runId, result, cv, ds.imageIds, ds.labels);
    log.info(`run ${runId} (fine-tuned from ${cut.cut}): fused ${ev.fused.auc.toFixed(3)} image ${ev.image.auc.toFixed(3)}; frozen run ${frozen.runId}`);
    return result;
  } catch (err) {
    if (runId !== null) {
      const cancelled = err instanceof DermFuseError && err.code === 'CANCELLED';
      runs.stop(runId, cancelled ? 'cancelled' : 'failed', (err as Error).message);
    }
    // A network no features were stored for is of no use (a failed extraction removes what it stored).
    if (tunedDir && !tunedFeatures) fs.rmSync(tunedDir, { recursive: true, force: true });
    throw err;
  } finally {
    await pool.close();
    releaseCache();
  }
}
