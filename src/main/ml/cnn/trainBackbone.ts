import fs from 'node:fs';
import { repoOf } from '../../db/open.ts';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import type { ImportProblem } from '../../../shared/types.ts';
import { LabelsRepo } from '../../db/repos/labelsRepo.ts';
import { runPool, type ProgressFn } from '../../jobs/progress.ts';
import type { Project } from '../../project.ts';
import type { BackendInfo, BackendName } from '../tfjs/backend.ts';
import { rangePreprocessing } from '../input/spec.ts';
import { BackboneNameSchema, safeBackboneName } from '../../../shared/backbone.ts';
import { decodeForBackbone } from '../input/decode.ts';
import { CNN_INPUT_SIZE } from './smallCnn.ts';
import { groupedStratifiedFolds } from '../stats/splits.ts';
import type { TrainCnnReply, TrainCnnRequest } from './trainCnnWorker.ts';
import { spawnWorker } from '../../jobs/workers.ts';

/** Defaults for training from scratch on a few hundred to a few thousand photos. */
const DEFAULT_EPOCHS = 30;
const DEFAULT_BATCH = 32;
const DEFAULT_LEARNING_RATE = 2e-3;
/** Epochs without a better validation loss before stopping (the best weights are kept). */
const DEFAULT_PATIENCE = 5;
/** One fold of five held out by patient for early stopping. */
const VALIDATION_FOLDS = 5;

/**
 * What a run may ask for. Input size: a backbone's preprocessing takes 16-1024, and training holds every labelled
 * image's pixels in memory (n x size² x 3 bytes: 2000 photos at 512 are 1.5 GB), so at most 512. Epochs and batch
 * size: beyond these a run never ends or a batch is the whole data set.
 */
export const TRAIN_BACKBONE_LIMITS = { inputSize: [16, 512], epochs: [1, 1000], batchSize: [1, 1024], seed: [1, 1_000_000] } as const;

export interface TrainBackboneOptions {
  inputSize?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  patience?: number;
  seed?: number;
  name?: string;
  backend?: BackendName;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface TrainBackboneSummary {
  name: string;
  dir: string;
  label: string;
  classes: Record<string, number>;
  trainImages: number;
  valImages: number;
  epochsRun: number;
  bestEpoch: number;
  bestValLoss: number;
  valAccuracy: number;
  trainImagesPerSecond: number;
  seconds: number;
  backend: BackendInfo | null;
  failures: ImportProblem[];
}

/**
 * Trains the small CNN on the project's labelled images (primary label set), validating on patients held out,
 * and saves it under `models/NAME` as a backbone folder: `dermfuse extract --backbone models/NAME` then takes the
 * layer before its classifier.
 */
export async function trainBackbone(project: Project, opts: TrainBackboneOptions = {}): Promise<TrainBackboneSummary> {
  const started = performance.now();
  const labelSet = repoOf(project.db, LabelsRepo).primarySet();
  if (!labelSet) throw new DermFuseError('NOT_FOUND', 'The project has no labels yet: import a CSV with a label column or label images first.');
  const rows = repoOf(project.db, LabelsRepo).labelledImages(labelSet.id, 'patient', 'id');
  const classes = [...new Set(rows.map((r) => r.label))].sort();
  if (classes.length < 2)
    throw new DermFuseError('INVALID_ARGUMENT', `Training needs at least two classes; label set "${labelSet.name}" has ${classes.length}.`);

  const size = opts.inputSize ?? CNN_INPUT_SIZE;
  const pre = rangePreprocessing(size, -1, 1);
  const pixels = new Uint8Array(rows.length * size * size * 3);
  const ok: boolean[] = new Array<boolean>(rows.length).fill(false);
  const failures: ImportProblem[] = [];
  let decoded = 0;
  await runPool(
    rows,
    4,
    async (r, i) => {
      try {
        pixels.set(await decodeForBackbone(r.path, pre), i * size * size * 3);
        ok[i] = true;
      } catch (err) {
        failures.push({ source: r.path, message: `cannot decode: ${(err as Error).message}` });
      }
      opts.onProgress?.({ phase: 'decode', done: ++decoded, total: rows.length });
    },
    opts.signal,
  );
  if (opts.signal?.aborted) throw new DermFuseError('CANCELLED', 'Training cancelled while reading images.');
  const usable = rows.map((_, i) => i).filter((i) => ok[i]);
  const labels = Int32Array.from(rows.map((r) => classes.indexOf(r.label)));
  const folds = groupedStratifiedFolds(
    usable.map((i) => ({ group: rows[i]!.grp, sha256: rows[i]!.sha256, label: labels[i]! })),
    VALIDATION_FOLDS,
    opts.seed ?? 1,
  );
  const train = usable.filter((_, k) => folds[k] !== 0);
  const val = usable.filter((_, k) => folds[k] === 0);

  // The name becomes the model's folder and, through its sidecar, its features' key: the one rule for backbone names.
  const name = opts.name ?? safeBackboneName(`cnn-${labelSet.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const checked = BackboneNameSchema.safeParse(name);
  if (!checked.success) throw new DermFuseError('INVALID_ARGUMENT', `--name "${name}": ${checked.error.issues[0]!.message}`);
  const dir = project.resolveInside(path.join('models', name));
  if (fs.existsSync(dir)) throw new DermFuseError('INVALID_ARGUMENT', `models/${name} exists already: choose another --name.`);
  const tmpDir = `${dir}.partial`;
  fs.rmSync(tmpDir, { recursive: true, force: true });

  const worker = spawnWorker('ml/cnn/trainCnnWorker');
  const onAbort = () => worker.postMessage({ type: 'stop' });
  opts.signal?.addEventListener('abort', onAbort);
  let backend: BackendInfo | null = null;
  let lastRate = 0;
  try {
    const result = await new Promise<Extract<TrainCnnReply, { type: 'done' }>>((resolve, reject) => {
      worker.on('message', (m: TrainCnnReply) => {
        if (m.type === 'started') backend = m.backend;
        else if (m.type === 'epoch') {
          lastRate = m.imagesPerSecond;
          opts.onProgress?.({
            phase: 'train',
            done: m.epoch,
            total: m.epochs,
            message: `loss ${m.loss.toFixed(3)}, val loss ${m.valLoss.toFixed(3)}, val accuracy ${m.valAccuracy.toFixed(3)}`,
          });
        } else if (m.type === 'done') resolve(m);
        else reject(new DermFuseError('INTERNAL', `CNN training failed: ${m.message}`));
      });
      worker.on('error', (e) => reject(new DermFuseError('INTERNAL', `CNN training worker crashed: ${e.message}`)));
      worker.on('exit', (code) => code !== 0 && reject(new DermFuseError('INTERNAL', `CNN training worker exited with code ${code}`)));
      const req: TrainCnnRequest = {
        type: 'train',
        backend: opts.backend,
        pixels,
        size,
        labels,
        classes,
        train,
        val,
        epochs: opts.epochs ?? DEFAULT_EPOCHS,
        batchSize: opts.batchSize ?? DEFAULT_BATCH,
        learningRate: opts.learningRate ?? DEFAULT_LEARNING_RATE,
        patience: opts.patience ?? DEFAULT_PATIENCE,
        seed: opts.seed ?? 1,
        outDir: tmpDir,
        name,
      };
      worker.postMessage(req, [pixels.buffer]);
    });
    if (result.stopped) throw new DermFuseError('CANCELLED', `Training cancelled after ${result.epochsRun} epochs; nothing was saved.`);
    fs.renameSync(tmpDir, dir);
    const counts: Record<string, number> = {};
    for (const i of usable) counts[rows[i]!.label] = (counts[rows[i]!.label] ?? 0) + 1;
    return {
      name,
      dir,
      label: labelSet.name,
      classes: counts,
      trainImages: train.length,
      valImages: val.length,
      epochsRun: result.epochsRun,
      bestEpoch: result.bestEpoch,
      bestValLoss: result.bestValLoss,
      valAccuracy: result.valAccuracy,
      trainImagesPerSecond: lastRate,
      seconds: (performance.now() - started) / 1000,
      backend,
      failures,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}
