/** A backbone's configuration as the extraction, the feature store and bundles keep it: checked by schema. */
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

/** The name a fine-tuned run gives the network it trained (finetune/finetuneRun.ts). */
export function finetunedBackboneName(base: string, runId: number): string {
  return `${base}-finetuned-run-${runId}`;
}

/** Whether a backbone is a network fine-tuned on this project's own labels (its features have seen them). */
export function isFinetunedBackbone(name: string): boolean {
  return /-finetuned-run-\d+$/.test(name);
}

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
