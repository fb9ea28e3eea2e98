import sharp from 'sharp';
import type { Preprocessing } from './backboneSpec.ts';
import { MAX_INPUT_PIXELS } from '../images/thumbnails.ts';

/** Decodes an image file to uint8 RGB of the backbone's input size: EXIF-oriented, squashed or centre-cropped. */
export async function decodeForBackbone(file: string, pre: Preprocessing): Promise<Buffer> {
  const s = pre.inputSize;
  const { data, info } = await sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .resize(s, s, { fit: pre.resize === 'squash' ? 'fill' : 'cover', position: 'centre', kernel: 'lanczos3' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== s * s * 3) throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${s}x${s}x3`);
  return data;
}
