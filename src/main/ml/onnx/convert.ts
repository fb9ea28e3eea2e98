import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { initBackend, tf } from '../tfjs/backend.ts';
import type { BackboneSpec } from '../../../shared/backbone.ts';
import { featureModel } from '../tfjs/embedder.ts';
import { folderHandler } from '../tfjs/modelFiles.ts';
import { layersToOnnx } from './fromLayers.ts';
import { encodeModel } from './proto.ts';

/** Largest difference between the converted graph and TF.js, relative to the features' scale, for the graph to be used. */
export const CONVERSION_TOLERANCE = 1e-4;

export interface ConversionCheck {
  /** Largest absolute difference on the check batch divided by the largest absolute feature. */
  relativeDifference: number;
  seconds: number;
  nodes: number;
}

/**
 * Converts a TF.js LayersModel's feature model to ONNX and keeps it only when ONNX Runtime reproduces TF.js on a
 * batch of random inputs in the network's value range. Written to `file` atomically; a mismatch throws naming
 * the difference, and nothing is written.
 */
export async function convertLayersModel(spec: BackboneSpec, file: string): Promise<ConversionCheck> {
  const started = performance.now();
  await initBackend();
  const model = await tf.loadLayersModel(folderHandler(spec.dir));
  try {
    const cut = featureModel(model, spec.featureLayer);
    const pre = spec.preprocessing;
    const graph = layersToOnnx(cut, pre.inputSize, { scale: pre.scale, offset: pre.offset });
    const bytes = encodeModel(graph);
    const s = pre.inputSize;
    // Random pixels: the graph maps them itself; TF.js gets them through the backbone's value mapping.
    const n = 2;
    const pixels = new Uint8Array(n * s * s * 3);
    const x = new Float32Array(pixels.length);
    let seed = 12345;
    for (let i = 0; i < x.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      pixels[i] = seed >>> 24;
      x[i] = pixels[i]! * pre.scale[i % 3]! + pre.offset[i % 3]!;
    }
    const expected = tf.tidy(() => {
      const y = cut.predict(tf.tensor4d(x, [n, s, s, 3])) as tf.Tensor;
      return (y.rank === 4 ? tf.mean(y, [1, 2]) : y.reshape([n, -1])).dataSync() as Float32Array;
    });
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
    let actual: Float32Array;
    try {
      const out = await session.run({ input: new ort.Tensor('uint8', pixels, [n, s, s, 3]) });
      actual = out.features!.data as Float32Array;
    } finally {
      await session.release();
    }
    if (actual.length !== expected.length) throw new Error(`the converted graph gives ${actual.length / n} features per image, TF.js ${expected.length / n}`);
    let diff = 0;
    let scale = 1e-6;
    for (let i = 0; i < actual.length; i++) {
      diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
      scale = Math.max(scale, Math.abs(expected[i]!));
    }
    const relativeDifference = diff / scale;
    if (!(relativeDifference <= CONVERSION_TOLERANCE)) {
      throw new Error(
        `the converted graph differs from TF.js by ${relativeDifference.toExponential(2)} of the feature scale (allowed ${CONVERSION_TOLERANCE})`,
      );
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
    return { relativeDifference, seconds: (performance.now() - started) / 1000, nodes: graph.nodes.length };
  } finally {
    model.dispose();
  }
}
