import { describe, expect, it } from 'vitest';
import { dihedralView, fromHalf, toHalf } from '../../src/main/ml/finetune/views.ts';

describe('the cached views', () => {
  it('are the 8 distinct flips and quarter turns of an image, view 0 the image itself, each a permutation of its pixels', () => {
    const s = 5;
    const px = Uint8Array.from({ length: s * s * 3 }, (_, i) => i % 251);
    const views = Array.from({ length: 8 }, (_, k) => dihedralView(px, s, k));
    expect(Array.from(views[0]!)).toEqual(Array.from(px));
    expect(new Set(views.map((v) => Array.from(v).join(','))).size).toBe(8);
    for (const v of views) expect(Array.from(v).sort((a, b) => a - b)).toEqual(Array.from(px).sort((a, b) => a - b));
    // View 1 mirrors left-right: pixel (y, x) comes from (y, s-1-x); view 4 transposes: (y, x) from (x, y).
    const at = (a: Uint8Array, y: number, x: number) => a[(y * s + x) * 3];
    expect(at(views[1]!, 1, 0)).toBe(at(px, 1, s - 1));
    expect(at(views[4]!, 1, 3)).toBe(at(px, 3, 1));
  });

  it('are stored as half floats: every half value round-trips exactly, other values within half precision', () => {
    const halves = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) => ((h >> 10) & 0x1f) !== 0x1f);
    expect(Array.from(toHalf(fromHalf(halves)))).toEqual(Array.from(halves).map((h) => (h === 0x8000 ? 0x8000 : h)));
    const x = Float32Array.from({ length: 1000 }, (_, i) => (i - 500) * 0.0371 + 1e-3 * Math.sin(i));
    const back = fromHalf(toHalf(x));
    x.forEach((v, i) => expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -24));
    expect(fromHalf(toHalf(Float32Array.of(1e6, -1e6)))).toEqual(Float32Array.of(Infinity, -Infinity));
  });
});
