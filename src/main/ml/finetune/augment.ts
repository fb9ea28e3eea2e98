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
  const out = new Uint8Array(s * s * 3);
  for (let y = 0; y < s; y++) {
    // Pixel centres of the output map onto the crop's extent.
    const sy = Math.min(s - 1, Math.max(0, y0 + ((y + 0.5) * h) / s - 0.5));
    const y1 = Math.floor(sy);
    const y2 = Math.min(s - 1, y1 + 1);
    const fy = sy - y1;
    for (let x = 0; x < s; x++) {
      const sx = Math.min(s - 1, Math.max(0, x0 + ((x + 0.5) * w) / s - 0.5));
      const x1 = Math.floor(sx);
      const x2 = Math.min(s - 1, x1 + 1);
      const fx = sx - x1;
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => pixels[(yy * s + xx) * 3 + c]!;
        const top = at(y1, x1) * (1 - fx) + at(y1, x2) * fx;
        const bottom = at(y2, x1) * (1 - fx) + at(y2, x2) * fx;
        out[(y * s + x) * 3 + c] = Math.round(top * (1 - fy) + bottom * fy);
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
  const grey = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += grey(pixels[i * 3]!, pixels[i * 3 + 1]!, pixels[i * 3 + 2]!) * brightness;
  mean /= n;
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < n; i++) {
    const rgb = [0, 1, 2].map((c) => (pixels[i * 3 + c]! * brightness - mean) * contrast + mean);
    const g = grey(rgb[0]!, rgb[1]!, rgb[2]!);
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.min(255, Math.max(0, Math.round((rgb[c]! - g) * saturation + g)));
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
