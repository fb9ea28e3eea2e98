import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Bounds of the per-channel pixel map. Real backbones use scales of 0.004 to 1 and offsets of -3 to 3 (or -124 for
 * Caffe-style mean subtraction); beyond ±1e6 float32 activations overflow to infinity and the features become NaN,
 * and below 1e-9 every pixel maps to nearly the same value.
 */
export const MAX_PIXEL_COEFFICIENT = 1e6;
const MIN_PIXEL_SCALE = 1e-9;
const finite = z.number({ error: 'must be a finite number' });
const scaleValue = finite.refine((x) => Math.abs(x) >= MIN_PIXEL_SCALE && Math.abs(x) <= MAX_PIXEL_COEFFICIENT, {
  error: `must be non-zero, between ${MIN_PIXEL_SCALE} and ${MAX_PIXEL_COEFFICIENT} in size`,
});
const offsetValue = finite.refine((x) => Math.abs(x) <= MAX_PIXEL_COEFFICIENT, {
  error: `must be between -${MAX_PIXEL_COEFFICIENT} and ${MAX_PIXEL_COEFFICIENT}`,
});

/**
 * A backbone's name starts its feature key and the file names of its converted models in the cache, and is shown
 * in lists: letters, digits, spaces, dots, dashes and underscores, never "..", so it can name no other folder.
 * Not "+" or ",": they join several backbones' keys in a run (KEY_SEPARATOR) and in --backbone.
 */
export const BACKBONE_NAME_MAX = 100;
const BACKBONE_NAME = /^[\p{L}\p{N}][\p{L}\p{N}._\- ]*$/u;
export const BackboneNameSchema = z
  .string()
  .max(BACKBONE_NAME_MAX, { error: `a backbone name has at most ${BACKBONE_NAME_MAX} characters` })
  .refine((name) => BACKBONE_NAME.test(name) && !name.includes('..'), {
    error: 'a backbone name starts with a letter or digit and holds only letters, digits, spaces, dots, dashes and underscores (no "..")',
  });

/** A name made from a file, folder or URL (which may hold anything) that BackboneNameSchema takes. */
export function safeBackboneName(raw: string): string {
  const name = raw
    .replace(/[^\p{L}\p{N}._\- ]+/gu, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^\p{L}\p{N}]+/u, '')
    .slice(0, BACKBONE_NAME_MAX)
    .trimEnd();
  return name || 'model';
}

/** How pixels reach the network: input size, value range and resize mode. Part of the feature cache key. */
export const PreprocessingSchema = z.object({
  inputSize: z.number().int().min(16).max(1024),
  /** Per-channel affine map of 0-255 RGB values: x * scale + offset. */
  scale: z.tuple([scaleValue, scaleValue, scaleValue]),
  offset: z.tuple([offsetValue, offsetValue, offsetValue]),
  /** squash: resize to a square ignoring aspect; center-crop: scale the short side, crop the middle. */
  resize: z.enum(['squash', 'center-crop']),
  /**
   * center-crop only: the share of the short side kept (torchvision's Resize(256) + CenterCrop(224) is 0.875).
   * Absent: 1, the whole short side.
   */
  crop: z.number().min(0.25).max(1).optional(),
});
export type Preprocessing = z.infer<typeof PreprocessingSchema>;

/** A backbone as the extraction job needs it: a model folder on disk plus how to use it. */
export const BackboneSpecSchema = z.object({
  name: BackboneNameSchema,
  dir: z.string().min(1),
  format: z.enum(['layers', 'graph', 'onnx']),
  /**
   * Layer (LayersModel), node (GraphModel) or output (ONNX) whose value is the embedding; null takes the last
   * global pooling (TF.js) or the first output (ONNX). A feature map is average-pooled.
   */
  featureLayer: z.string().nullable(),
  /** ONNX only: the model file in `dir`, its input (null: the first) and its layout. */
  onnx: z.object({ file: z.string().min(1), input: z.string().nullable(), layout: z.enum(['nchw', 'nhwc']) }).optional(),
  preprocessing: PreprocessingSchema,
  /** Test-time augmentation: average the embeddings of the image and its horizontal mirror. */
  tta: z.boolean(),
});
export type BackboneSpec = z.infer<typeof BackboneSpecSchema>;

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
