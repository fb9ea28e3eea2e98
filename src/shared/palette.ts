/**
 * Colours of new classes, in class order: Okabe & Ito's palette, told apart with the common colour-vision
 * deficiencies (black left out: it is the text colour), then repeated.
 */
export const CLASS_PALETTE = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#999999'] as const;

export function paletteColor(position: number): string {
  return CLASS_PALETTE[position % CLASS_PALETTE.length]!;
}
