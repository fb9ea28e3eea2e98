import sharp from 'sharp';
import type { Preprocessing } from '../../../shared/backbone.ts';
import { MAX_INPUT_PIXELS } from '../../files/imageFiles.ts';

/** Decodes an image file (or its bytes) to uint8 RGB of the backbone's input size: EXIF-oriented, squashed or centre-cropped. */
export async function decodeForBackbone(file: string | Buffer, pre: Preprocessing): Promise<Buffer> {
  const s = pre.inputSize;
  // A crop below 1 scales the short side to s / crop and keeps the middle s x s (the middle square first, so the
  // crop's offsets are known without reading the oriented size).
  const outer = pre.resize === 'center-crop' && pre.crop !== undefined && pre.crop < 1 ? Math.round(s / pre.crop) : s;
  let img = sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .resize(outer, outer, { fit: pre.resize === 'squash' ? 'fill' : 'cover', position: 'centre', kernel: 'lanczos3' });
  if (outer !== s) {
    const offset = Math.round((outer - s) / 2);
    img = img.extract({ left: offset, top: offset, width: s, height: s });
  }
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== s * s * 3) throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${s}x${s}x3`);
  return data;
}
