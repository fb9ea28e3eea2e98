/**
 * Class colours and legible text on them. The palette is Okabe & Ito's, told apart with the common colour-vision
 * deficiencies (black left out: it is the text colour). Classes that are cancers get the warm colours (vermillion,
 * orange, reddish purple), the others the cool ones, so "cancer" reads as warm on every chip, badge and map.
 */
const WARM = ['#D55E00', '#E69F00', '#CC79A7'] as const;
const COOL = ['#0072B2', '#56B4E9', '#009E73', '#F0E442', '#999999'] as const;
/** Every colour a new class may get, warm first. */
export const CLASS_PALETTE = [...WARM, ...COOL] as const;

/** Diagnoses that are cancers (ISIC, HAM10000, PAD-UFES-20 codes and plain words). */
const MALIGNANT = /^(mel|melanoma|bcc|scc|akiec|malignant|cancer|carcinoma|yes|positive)$|melanoma|carcinoma|malignan/i;

export function isMalignantName(name: string): boolean {
  return MALIGNANT.test(name.trim());
}

/** The colour of a new class: warm for a cancer, cool otherwise; `position` spreads classes over each group. */
export function paletteColor(position: number, name = ''): string {
  const group = name && isMalignantName(name) ? WARM : COOL;
  return group[position % group.length]!;
}

/** WCAG's relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two #rrggbb colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
}

/**
 * Above this luminance black text contrasts more than white; at it both give √21 ≈ 4.58:1, so the better of the two
 * always passes WCAG AA (4.5:1) on any background.
 */
export const EQUAL_CONTRAST_LUMINANCE = Math.sqrt(1.05 * 0.05) - 0.05;

/** Black or white, whichever reads better on `bg`. */
export function textOn(bg: string): '#000000' | '#ffffff' {
  return luminance(bg) > EQUAL_CONTRAST_LUMINANCE ? '#000000' : '#ffffff';
}

/** `a` moved towards `b` by t (0 to 1). */
export function mix(a: string, b: string, t: number): string {
  const ch = (h: string, i: number) => parseInt(h.slice(i, i + 2), 16);
  return `#${[1, 3, 5]
    .map((i) => Math.round(ch(a, i) + (ch(b, i) - ch(a, i)) * t))
    .map((v) => v.toString(16).padStart(2, '0'))
    .join('')}`;
}

/** `fg` darkened (or lightened, on a dark `bg`) just enough to reach `ratio` against `bg`: coloured text that stays legible. */
export function legibleOn(fg: string, bg: string, ratio = 4.5): string {
  const towards = textOn(bg);
  for (let t = 0; t <= 1; t += 0.05) {
    const c = mix(fg, towards, t);
    if (contrast(c, bg) >= ratio) return c;
  }
  return towards;
}
