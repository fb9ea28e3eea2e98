import { describe, expect, it } from 'vitest';
import { augmentView, colourJitter, randomCrop, viewRandom } from '../../src/main/ml/finetune/augment.ts';

/** A 16 x 16 RGB image: red rises to the right, green downwards, blue constant. */
function ramp(s = 16): Uint8Array {
  const out = new Uint8Array(s * s * 3);
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      out[(y * s + x) * 3] = Math.round((x * 255) / (s - 1));
      out[(y * s + x) * 3 + 1] = Math.round((y * 255) / (s - 1));
      out[(y * s + x) * 3 + 2] = 100;
    }
  return out;
}

const constant = (values: number[]) => () => values.shift() ?? 0.5;
const channel = (img: Uint8Array, c: number) => Array.from({ length: img.length / 3 }, (_, i) => img[i * 3 + c]!);

describe('training views beside the flips and quarter turns', () => {
  it('draws the same view from the same image and view number, and another for another view or image', () => {
    const a = viewRandom('0123abcd' + '0'.repeat(56), 9);
    const b = viewRandom('0123abcd' + '0'.repeat(56), 9);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(viewRandom('0123abcd' + '0'.repeat(56), 10)()).not.toBe(viewRandom('0123abcd' + '0'.repeat(56), 9)());
    expect(viewRandom('ffff0000' + '0'.repeat(56), 9)()).not.toBe(viewRandom('0123abcd' + '0'.repeat(56), 9)());
  });

  it('crops: the whole input at area 1 and aspect 1 is the input itself', () => {
    const img = ramp();
    // area = 1, log-aspect midway (aspect 1), any offset (nothing left to move).
    expect(randomCrop(img, 16, constant([1, 0.5, 0.3, 0.7]))).toEqual(img);
  });

  it('crops: a smaller area magnifies one part, its corner where the offsets put it', () => {
    const img = ramp();
    // Area 0.6, aspect 1: a 12.4-pixel square at the top-left corner, stretched to 16.
    const tl = randomCrop(img, 16, constant([0, 0.5, 0, 0]));
    // At the bottom-right corner instead.
    const br = randomCrop(img, 16, constant([0, 0.5, 1, 1]));
    const maxOf = (a: number[]) => Math.max(...a);
    const minOf = (a: number[]) => Math.min(...a);
    // Red spans 0-255 across the input; the top-left crop stops short of the right edge's red, the other starts past 0.
    expect(maxOf(channel(tl, 0))).toBeLessThan(215);
    expect(minOf(channel(tl, 0))).toBeLessThan(5);
    expect(minOf(channel(br, 0))).toBeGreaterThan(40);
    expect(maxOf(channel(br, 0))).toBeGreaterThan(250);
    // Blue was constant and stays so: resampling adds no colour.
    expect(new Set(channel(tl, 2))).toEqual(new Set([100]));
  });

  it('jitters brightness, contrast and saturation within their bounds, leaving factors of 1 unchanged', () => {
    const img = ramp();
    expect(colourJitter(img, constant([0.5, 0.5, 0.5]))).toEqual(img);
    const brighter = colourJitter(img, constant([1, 0.5, 0.5]));
    const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(brighter) / mean(img)).toBeGreaterThan(1.1);
    expect(mean(brighter) / mean(img)).toBeLessThan(1.21);
    // Saturation 0.8: every pixel's channels move towards its grey, so their spread shrinks.
    const duller = colourJitter(img, constant([0.5, 0.5, 0]));
    const spread = (a: Uint8Array, i: number) => Math.max(a[i * 3]!, a[i * 3 + 1]!, a[i * 3 + 2]!) - Math.min(a[i * 3]!, a[i * 3 + 1]!, a[i * 3 + 2]!);
    for (let i = 0; i < 256; i += 17) expect(spread(duller, i)).toBeLessThanOrEqual(spread(img, i));
    expect(spread(duller, 255)).toBeLessThan(spread(img, 255));
  });

  it('applies the crop and then the colours when both are asked for, and neither when none is', () => {
    const img = ramp();
    const draws = [0, 0.5, 0, 0, 1, 0.5, 0.5];
    const both = augmentView(img, 16, ['jitter', 'crops'], constant([...draws]));
    expect(both).toEqual(colourJitter(randomCrop(img, 16, constant(draws.slice(0, 4))), constant(draws.slice(4))));
    expect(augmentView(img, 16, [], constant([]))).toBe(img);
  });
});
