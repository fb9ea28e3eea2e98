import { MAX_INPUT_PIXELS } from '../files/imageFiles.ts';
import { createHash } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';

/** Longest side of a stored thumbnail: sharp enough for a dense grid on a HiDPI screen. */
export const THUMB_SIZE = 256;
const THUMB_QUALITY = 80;

export interface ProcessedImage {
  sha256: string;
  /** Size as displayed, EXIF orientation applied. */
  width: number;
  height: number;
  format: string;
  thumbnail: Buffer;
}

/** Hashes, measures and thumbnails one image from its bytes. Throws on a corrupt or oversized image. */
export async function processImage(bytes: Buffer, maxPixels = MAX_INPUT_PIXELS): Promise<ProcessedImage> {
  if (bytes.length === 0) throw new Error('the file is empty');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const img = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' });
  const meta = await img.metadata();
  if (!meta.width || !meta.height || !meta.format) throw new Error('not a readable image');
  if (meta.width * meta.height > maxPixels) {
    throw new Error(`image is ${meta.width}x${meta.height} pixels, above the limit of ${maxPixels} (a decompression bomb?)`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const thumbnail = await img.rotate().resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: THUMB_QUALITY }).toBuffer();
  return {
    sha256,
    width: swap ? meta.height : meta.width,
    height: swap ? meta.width : meta.height,
    format: meta.format,
    thumbnail,
  };
}

/** Thumbnails are content-addressed: `thumbnails/ab/abcdef….jpg`, shared by byte-identical images. */
export function thumbnailRelPath(sha256: string): string {
  return path.join('thumbnails', sha256.slice(0, 2), `${sha256}.jpg`);
}
