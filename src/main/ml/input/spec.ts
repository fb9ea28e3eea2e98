import { createHash } from 'node:crypto';
import type { BackboneSpec, Preprocessing } from '../../../shared/backbone.ts';

/** Preprocessing from a value range such as [-1, 1] (MobileNet) or [0, 1]. */
export function rangePreprocessing(inputSize: number, low: number, high: number, resize: Preprocessing['resize'] = 'squash'): Preprocessing {
  const s = (high - low) / 255;
  return { inputSize, scale: [s, s, s], offset: [low, low, low], resize };
}

/** Preprocessing from ImageNet-style mean and std on 0-1 values (e.g. mean 0.485,0.456,0.406, std 0.229,0.224,0.225). */
export function meanStdPreprocessing(
  inputSize: number,
  mean: [number, number, number],
  std: [number, number, number],
  resize: Preprocessing['resize'] = 'center-crop',
  crop?: number,
): Preprocessing {
  return {
    inputSize,
    scale: [0, 1, 2].map((i) => 1 / (255 * std[i]!)) as [number, number, number],
    offset: [0, 1, 2].map((i) => -mean[i]! / std[i]!) as [number, number, number],
    resize,
    ...(crop !== undefined && crop < 1 ? { crop } : {}),
  };
}

/** ImageNet mean/std on 0-1 values, shorter side to 256 then the centre 224: what PyTorch-era models expect. */
export const IMAGENET_CENTER_CROP: Preprocessing = meanStdPreprocessing(224, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 'center-crop', 0.875);

/**
 * The cache key of a configuration: features computed under the same key are interchangeable. The model is
 * identified by its name and the content hash of its model.json (passed in), not by where it sits on disk.
 */
export function backboneKey(spec: BackboneSpec, modelHash: string): string {
  // The runtime (TF.js or ONNX Runtime) is not part of the key: both give the same features within 1e-4.
  const material = JSON.stringify({ model: modelHash, layer: spec.featureLayer, pre: spec.preprocessing, tta: spec.tta });
  return `${spec.name}-${createHash('sha256').update(material).digest('hex').slice(0, 16)}`;
}

/**
 * Maps uint8 RGB pixels (images of pre.inputSize squared, channels-last) to the network's input values
 * (x * scale + offset, per channel), channels-last as TF.js takes them or planar (NCHW) in the same pass.
 */
export function normalise(pixels: Uint8Array, pre: Preprocessing, layout: 'nhwc' | 'nchw' = 'nhwc'): Float32Array {
  const out = new Float32Array(pixels.length);
  const [s0, s1, s2] = pre.scale;
  const [o0, o1, o2] = pre.offset;
  const P = pre.inputSize * pre.inputSize;
  // Where channel 1 and 2 of a pixel go, relative to channel 0, and how far apart pixels are.
  const [c1, c2, step] = layout === 'nhwc' ? [1, 2, 3] : [P, 2 * P, 1];
  for (let i = 0, o = 0; i < pixels.length; i += 3) {
    if (layout === 'nchw' && i > 0 && (i / 3) % P === 0) o += 2 * P;
    out[o] = pixels[i]! * s0 + o0;
    out[o + c1] = pixels[i + 1]! * s1 + o1;
    out[o + c2] = pixels[i + 2]! * s2 + o2;
    o += step;
  }
  return out;
}
