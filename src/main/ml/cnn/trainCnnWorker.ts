// Worker thread: trains the small CNN on decoded images and saves it as a backbone folder.
import fs from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { initBackend, tf, type BackendInfo, type BackendName } from '../tfjs/backend.ts';
import { rangePreprocessing } from '../input/spec.ts';
import { folderSaver } from '../tfjs/modelFiles.ts';
import { permutation, rngFrom } from '../stats/random.ts';
import { buildSmallCnn, CNN_FEATURE_LAYER } from './smallCnn.ts';
import { registerWasmGradients } from './wasmGradients.ts';

export interface TrainCnnRequest {
  type: 'train';
  backend?: BackendName;
  pixels: Uint8Array;
  size: number;
  labels: Int32Array;
  classes: string[];
  train: number[];
  val: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  seed: number;
  outDir: string;
  name: string;
}

export type TrainCnnReply =
  | { type: 'started'; backend: BackendInfo }
  | { type: 'epoch'; epoch: number; epochs: number; loss: number; valLoss: number; valAccuracy: number; imagesPerSecond: number }
  | { type: 'done'; epochsRun: number; bestEpoch: number; bestValLoss: number; valAccuracy: number; stopped: boolean; numTensors: number }
  | { type: 'error'; message: string };

const port = parentPort!;
let stopRequested = false;

port.on('message', (msg: TrainCnnRequest | { type: 'stop' }) => {
  if (msg.type === 'stop') {
    stopRequested = true;
    return;
  }
  train(msg).catch((err: unknown) => port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies TrainCnnReply));
});

/** Pixels of the given images as a normalised batch, optionally mirrored (dermoscopy has no up or left). */
function batch(req: TrainCnnRequest, idx: number[], flip: [boolean, boolean]): tf.Tensor4D {
  return tf.tidy(() => {
    const s = req.size;
    const px = new Float32Array(idx.length * s * s * 3);
    idx.forEach((k, j) => {
      const src = req.pixels.subarray(k * s * s * 3, (k + 1) * s * s * 3);
      for (let q = 0; q < src.length; q++) px[j * s * s * 3 + q] = src[q]! / 127.5 - 1;
    });
    let x = tf.tensor4d(px, [idx.length, s, s, 3]);
    if (flip[0]) x = tf.reverse(x, 2);
    if (flip[1]) x = tf.reverse(x, 1);
    return x;
  });
}

/** Mean cross-entropy of softmax outputs, each sample weighted (class weights). */
function weightedCrossEntropy(p: tf.Tensor2D, y: tf.Tensor, w: tf.Tensor1D): tf.Scalar {
  const ce = tf.neg(tf.sum(tf.mul(y, tf.log(tf.add(p, 1e-7))), 1));
  return tf.div(tf.sum(tf.mul(ce, w)), tf.sum(w)) as tf.Scalar;
}

async function train(req: TrainCnnRequest): Promise<void> {
  const backend = await initBackend(req.backend);
  if (backend.backend === 'wasm') registerWasmGradients();
  port.postMessage({ type: 'started', backend } satisfies TrainCnnReply);
  const model = buildSmallCnn(req.size, req.classes.length, req.seed);
  const optimizer = tf.train.adam(req.learningRate);
  // Balanced class weights: rare cancers count as much as common benign lesions.
  const counts = req.classes.map((_, c) => req.train.filter((i) => req.labels[i] === c).length);
  const classWeight = Object.fromEntries(counts.map((n, c) => [c, n > 0 ? req.train.length / (req.classes.length * n) : 0]));
  const rand = rngFrom(req.seed);
  const valX = batch(req, req.val, [false, false]);
  const valY = tf.oneHot(
    tf.tensor1d(
      req.val.map((i) => req.labels[i]!),
      'int32',
    ),
    req.classes.length,
  );
  let best = { loss: Infinity, epoch: -1, accuracy: 0 };
  let bestWeights: tf.Tensor[] | null = null;
  let epoch = 0;
  for (; epoch < req.epochs && !stopRequested; epoch++) {
    const order = permutation(req.train.length, rand).map((i) => req.train[i]!);
    const t = performance.now();
    let lossSum = 0;
    for (let b = 0; b < order.length && !stopRequested; b += req.batchSize) {
      const idx = order.slice(b, b + req.batchSize);
      const x = batch(req, idx, [rand() < 0.5, rand() < 0.5]);
      const y = tf.oneHot(
        tf.tensor1d(
          idx.map((i) => req.labels[i]!),
          'int32',
        ),
        req.classes.length,
      );
      const w = tf.tensor1d(idx.map((i) => classWeight[req.labels[i]!]!));
      const loss = optimizer.minimize(() => weightedCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y, w), true)!;
      lossSum += loss.dataSync()[0]! * idx.length;
      tf.dispose([x, y, w, loss]);
      // Let a 'stop' message in between batches.
      await new Promise((r) => setImmediate(r));
    }
    if (stopRequested) break;
    const [valLoss, valAcc] = tf.tidy(() => {
      const p = model.predict(valX, { batchSize: 64 }) as tf.Tensor2D;
      const loss = weightedCrossEntropy(p, valY, tf.ones([p.shape[0]]) as tf.Tensor1D).dataSync()[0]!;
      const acc = tf.mean(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(valY, 1)), 'float32')).dataSync()[0]!;
      return [loss, acc];
    });
    const imagesPerSecond = order.length / ((performance.now() - t) / 1000);
    port.postMessage({
      type: 'epoch',
      epoch: epoch + 1,
      epochs: req.epochs,
      loss: lossSum / order.length,
      valLoss: valLoss!,
      valAccuracy: valAcc!,
      imagesPerSecond,
    } satisfies TrainCnnReply);
    if (valLoss! < best.loss) {
      best = { loss: valLoss!, epoch: epoch + 1, accuracy: valAcc! };
      bestWeights?.forEach((w) => w.dispose());
      bestWeights = model.getWeights().map((w) => w.clone());
    } else if (epoch + 1 - best.epoch >= req.patience) break;
  }
  if (bestWeights) {
    model.setWeights(bestWeights);
    bestWeights.forEach((w) => w.dispose());
  }
  tf.dispose([valX, valY]);
  if (!stopRequested) {
    await model.save(folderSaver(req.outDir));
    const sidecar = {
      name: req.name,
      format: 'layers',
      featureLayer: CNN_FEATURE_LAYER,
      preprocessing: rangePreprocessing(req.size, -1, 1),
      tta: false,
      classes: req.classes,
    };
    fs.writeFileSync(path.join(req.outDir, 'dermfuse-backbone.json'), JSON.stringify(sidecar, null, 2));
  }
  model.dispose();
  optimizer.dispose();
  port.postMessage({
    type: 'done',
    epochsRun: epoch,
    bestEpoch: best.epoch,
    bestValLoss: best.loss,
    valAccuracy: best.accuracy,
    stopped: stopRequested,
    numTensors: tf.memory().numTensors,
  } satisfies TrainCnnReply);
}
