import { describe, expect, it } from 'vitest';
import { normalise, rangePreprocessing } from '../../src/main/ml/input/spec.ts';

describe('normalise', () => {
  it('maps pixels per channel, channels-last or planar (the planar result is the channels-last one transposed)', () => {
    const pre = { ...rangePreprocessing(3, -1, 1), scale: [1, 2, 3] as [number, number, number], offset: [0, 10, 20] as [number, number, number] };
    const n = 2;
    const pixels = Uint8Array.from({ length: n * 9 * 3 }, (_, k) => k);
    const hwc = normalise(pixels, pre);
    expect(Array.from(hwc.slice(0, 6))).toEqual([0, 12, 26, 3, 18, 35]);
    const chw = normalise(pixels, pre, 'nchw');
    for (let k = 0; k < n; k++) for (let p = 0; p < 9; p++) for (let c = 0; c < 3; c++) expect(chw[k * 27 + c * 9 + p]).toBe(hwc[k * 27 + p * 3 + c]);
  });
});
