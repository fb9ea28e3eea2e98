import { rngFrom } from '../stats/random.ts';
import type { Augment } from '../../../shared/results.ts';

/**
 * Random views for training only, beside the flips and quarter turns (views.ts): a crop of a random part of the
 * network input scaled back up (torchvision's RandomResizedCrop, on the decoded square input), and a random change of
 * brightness, contrast and saturation (ColorJitter without hue: a hue shift would change what a lesion looks like).
 * Each is drawn from the image's content hash and the view's number, so a resumed cache writes the same values.
 */

/** Kept share of the input's area, and its aspect ratio (drawn log-uniform): milder than ImageNet's 0.08-1 for a lesion that fills the photo. */
export const CROP_AREA: readonly [number, number] = [0.6, 1];
export const CROP_ASPECT: readonly [number, number] = [3 / 4, 4 / 3];
/** Factors of brightness, contrast (about the mean grey) and saturation (about each pixel's grey). */
export const JITTER: readonly [number, number] = [0.8, 1.2];

/**
 * What the cached random views depend on, for the view cache's key: other bounds or another way of drawing them make
 * a new cache rather than mixing with old views. Raise VERSION when the drawing or resampling changes.
 */
const VERSION = 1;
export const AUGMENT_SETTINGS = (augment: readonly Augment[]) => ({
  augment,
  version: VERSION,
  ...(augment.includes('crops') ? { area: CROP_AREA, aspect: CROP_ASPECT } : {}),
  ...(augment.includes('jitter') ? { jitter: JITTER } : {}),
});

/** Views cached per image: the flips and turns, then (with any augmentation) as many random views. */
export const cachedViewCount = (views: number, augment: readonly Augment[]): number => (augment.length > 0 ? views * 2 : views);

/** The random numbers of one augmented view: from the first 8 hex digits of the content hash and the view number. */
export function viewRandom(sha: string, view: number): () => number {
  return rngFrom((Number.parseInt(sha.slice(0, 8), 16) ^ Math.imul(view + 1, 0x9e3779b1)) >>> 0 || 1);
}

const between = (rand: () => number, [lo, hi]: readonly [number, number]): number => lo + (hi - lo) * rand();

/** A random crop of a square uint8 RGB image (s x s x 3), resampled bilinearly back to s x s. */
export function randomCrop(pixels: Uint8Array, s: number, rand: () => number): Uint8Array {
  const area = between(rand, CROP_AREA);
  const aspect = Math.exp(between(rand, [Math.log(CROP_ASPECT[0]), Math.log(CROP_ASPECT[1])]));
  const w = Math.min(s, s * Math.sqrt(area * aspect));
  const h = Math.min(s, s * Math.sqrt(area / aspect));
  const x0 = (s - w) * rand();
  const y0 = (s - h) * rand();
  // Where each output pixel's centre falls in the input, per axis: the two neighbours and the weight of the second.
  const axis = (start: number, extent: number) => {
    const lo = new Int32Array(s);
    const hi = new Int32Array(s);
    const f = new Float64Array(s);
    for (let k = 0; k < s; k++) {
      const at = Math.min(s - 1, Math.max(0, start + ((k + 0.5) * extent) / s - 0.5));
      lo[k] = Math.floor(at);
      hi[k] = Math.min(s - 1, lo[k]! + 1);
      f[k] = at - lo[k]!;
    }
    return { lo, hi, f };
  };
  const xs = axis(x0, w);
  const ys = axis(y0, h);
  const out = new Uint8Array(s * s * 3);
  for (let y = 0; y < s; y++) {
    const top = ys.lo[y]! * s * 3;
    const bottom = ys.hi[y]! * s * 3;
    const fy = ys.f[y]!;
    for (let x = 0; x < s; x++) {
      const left = xs.lo[x]! * 3;
      const right = xs.hi[x]! * 3;
      const fx = xs.f[x]!;
      const o = (y * s + x) * 3;
      for (let c = 0; c < 3; c++) {
        const t = pixels[top + left + c]! + (pixels[top + right + c]! - pixels[top + left + c]!) * fx;
        const b = pixels[bottom + left + c]! + (pixels[bottom + right + c]! - pixels[bottom + left + c]!) * fx;
        out[o + c] = Math.round(t + (b - t) * fy);
      }
    }
  }
  return out;
}

/** Random brightness, contrast and saturation of a uint8 RGB image, in that order, clamped to 0-255. */
export function colourJitter(pixels: Uint8Array, rand: () => number): Uint8Array {
  const brightness = between(rand, JITTER);
  const contrast = between(rand, JITTER);
  const saturation = between(rand, JITTER);
  const n = pixels.length / 3;
  let mean = 0;
  for (let i = 0; i < pixels.length; i += 3) mean += 0.299 * pixels[i]! + 0.587 * pixels[i + 1]! + 0.114 * pixels[i + 2]!;
  mean = (mean * brightness) / n;
  const out = new Uint8Array(pixels.length);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let i = 0; i < pixels.length; i += 3) {
    const r = (pixels[i]! * brightness - mean) * contrast + mean;
    const g = (pixels[i + 1]! * brightness - mean) * contrast + mean;
    const b = (pixels[i + 2]! * brightness - mean) * contrast + mean;
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    out[i] = clamp((r - grey) * saturation + grey);
    out[i + 1] = clamp((g - grey) * saturation + grey);
    out[i + 2] = clamp((b - grey) * saturation + grey);
  }
  return out;
}

/** The augmented base image of one view: crop first, then colours, as torchvision's usual order. */
export function augmentView(pixels: Uint8Array, s: number, augment: readonly Augment[], rand: () => number): Uint8Array {
  let out = pixels;
  if (augment.includes('crops')) out = randomCrop(out, s, rand);
  if (augment.includes('jitter')) out = colourJitter(out, rand);
  return out;
}
