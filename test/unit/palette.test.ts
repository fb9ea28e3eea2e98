import { describe, expect, it } from 'vitest';
import { CLASS_PALETTE, contrast, isMalignantName, legibleOn, mix, paletteColor, textOn } from '../../src/shared/palette.ts';

describe('class colours', () => {
  it('black or white text reaches 4.5:1 on every palette colour, and on any colour at all', () => {
    for (const c of CLASS_PALETTE) expect(contrast(textOn(c), c), c).toBeGreaterThanOrEqual(4.5);
    for (let v = 0; v < 256; v += 5) {
      const grey = `#${v.toString(16).padStart(2, '0').repeat(3)}`;
      for (const c of [grey, mix('#ff0000', grey, 0.5), mix('#00ff00', grey, 0.5), mix('#0000ff', grey, 0.5)])
        expect(contrast(textOn(c), c), c).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('coloured text is darkened just enough to read on white and on its own tint', () => {
    for (const c of [...CLASS_PALETTE, '#fab005', '#40c057']) {
      expect(contrast(legibleOn(c, '#ffffff'), '#ffffff')).toBeGreaterThanOrEqual(4.5);
      const tint = mix(c, '#ffffff', 0.88);
      expect(contrast(legibleOn(c, tint), tint)).toBeGreaterThanOrEqual(4.5);
    }
    expect(legibleOn('#0072B2', '#ffffff')).toBe('#0072b2');
  });

  it('cancers get warm colours and benign classes cool ones, distinct within each group', () => {
    for (const n of ['MEL', 'BCC', 'SCC', 'akiec', 'Melanoma', 'malignant']) expect(isMalignantName(n), n).toBe(true);
    for (const n of ['NEV', 'SEK', 'ACK', 'nv', 'benign', 'bkl']) expect(isMalignantName(n), n).toBe(false);
    const warm = [0, 1, 2].map((k) => paletteColor(k, 'MEL'));
    expect(new Set(warm).size).toBe(3);
    expect(warm[0]).toBe('#D55E00');
    expect(paletteColor(0, 'NEV')).toBe('#0072B2');
  });
});
