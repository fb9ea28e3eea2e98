import sharp from 'sharp';
import { heatColour, occlusionBlocks, type OcclusionMap } from '../../../shared/explain.ts';
import { MAX_INPUT_PIXELS } from '../../files/imageFiles.ts';

/** The exported photo's longer side: enough to see a lesion's border, small enough to attach to a report. */
const LONG_SIDE = 512;
const BAR_HEIGHT = 44;
/** Overlay opacity of the hottest block; cooler blocks show fainter, so the photo stays readable around them. */
const OPACITY = 0.6;

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The photo with its occlusion map laid over it (the blocks smoothly scaled to the photo) and a colour bar below saying
 * what the colours mean: from no drop to the largest drop in the explained class's probability. PNG bytes.
 */
export async function heatmapPng(file: string | Buffer, map: OcclusionMap, what: string): Promise<Buffer> {
  const photo = await sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .resize(LONG_SIDE, LONG_SIDE, { fit: 'inside', withoutEnlargement: false })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width: W, height: H } = photo.info;
  const { blocks, max } = occlusionBlocks(map);
  const b = blocks.length;
  const small = Buffer.alloc(b * b * 4);
  blocks.flat().forEach((v, i) => {
    const t = Math.max(0, v) / max;
    const [r, g, bl] = heatColour(t);
    small.set([r, g, bl, Math.round(255 * OPACITY * (0.25 + 0.75 * t))], i * 4);
  });
  const overlay = await sharp(small, { raw: { width: b, height: b, channels: 4 } })
    .resize(W, H, { fit: 'fill', kernel: 'cubic' })
    .png()
    .toBuffer();
  const barWidth = Math.min(W - 20, 300);
  const bar = Buffer.alloc(barWidth * 12 * 3);
  for (let x = 0; x < barWidth; x++) {
    const c = heatColour(x / (barWidth - 1));
    for (let y = 0; y < 12; y++) bar.set(c, (y * barWidth + x) * 3);
  }
  const text = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${BAR_HEIGHT}">
    <text x="10" y="40" font-family="sans-serif" font-size="12" fill="#222">0</text>
    <text x="${10 + barWidth}" y="40" font-family="sans-serif" font-size="12" fill="#222" text-anchor="end">${max.toFixed(3)}</text>
    <text x="${Math.min(W - 4, 20 + barWidth)}" y="16" font-family="sans-serif" font-size="11" fill="#222">${escapeXml(`drop in P(${what})`)}</text>
  </svg>`;
  return sharp({ create: { width: W, height: H + BAR_HEIGHT, channels: 3, background: '#ffffff' } })
    .composite([
      { input: photo.data, raw: { width: W, height: H, channels: 3 }, top: 0, left: 0 },
      { input: overlay, top: 0, left: 0 },
      { input: bar, raw: { width: barWidth, height: 12, channels: 3 }, top: H + 6, left: 10 },
      { input: Buffer.from(text), top: H, left: 0 },
    ])
    .png()
    .toBuffer();
}
