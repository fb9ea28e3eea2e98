/** Zoom and pan of the lesion view: scale about a point, clamped; pure so it is tested without a browser. */
export interface View {
  scale: number;
  x: number;
  y: number;
}

export const FIT: View = { scale: 1, x: 0, y: 0 };
export const MAX_SCALE = 16;

/**
 * Zooms by `factor` keeping the image point under (px, py) (box coordinates) where it is. Zooming out stops at
 * `min`: fit (1), or below it for a photo smaller than the box, down to its true pixels. Passing fit on the way
 * lands on fit exactly (centred), so a photo never drifts off at the fitted size.
 */
export function zoomAt(v: View, factor: number, px: number, py: number, min = 1): View {
  let scale = Math.min(MAX_SCALE, Math.max(min, v.scale * factor));
  if ((v.scale > 1 && scale <= 1) || (v.scale < 1 && scale >= 1) || scale === 1) scale = 1;
  if (scale === 1) return FIT;
  const k = scale / v.scale;
  return { scale, x: px - (px - v.x) * k, y: py - (py - v.y) * k };
}

/**
 * The scale at which one image pixel is one screen pixel, for an image fitted (contain) into the box: above 1 for
 * a photo larger than the box, below 1 for a smaller one (fit enlarges it).
 */
export function actualSizeScale(natural: { w: number; h: number }, box: { w: number; h: number }): number {
  const fit = Math.min(box.w / natural.w, box.h / natural.h);
  return Math.min(MAX_SCALE, 1 / fit);
}
