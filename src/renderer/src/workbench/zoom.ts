/** Zoom and pan of the lesion view: scale about a point, clamped; pure so it is tested without a browser. */
export interface View {
  scale: number;
  x: number;
  y: number;
}

export const FIT: View = { scale: 1, x: 0, y: 0 };
export const MIN_SCALE = 1;
export const MAX_SCALE = 16;

/** Zooms by `factor` keeping the image point under (px, py) (box coordinates) where it is. */
export function zoomAt(v: View, factor: number, px: number, py: number): View {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, v.scale * factor));
  const k = scale / v.scale;
  if (scale === MIN_SCALE) return FIT;
  return { scale, x: px - (px - v.x) * k, y: py - (py - v.y) * k };
}

/** The scale at which one image pixel is one screen pixel, for an image fitted (contain) into the box. */
export function actualSizeScale(natural: { w: number; h: number }, box: { w: number; h: number }): number {
  const fit = Math.min(box.w / natural.w, box.h / natural.h);
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, 1 / fit));
}
