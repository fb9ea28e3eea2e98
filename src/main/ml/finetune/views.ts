/**
 * The augmented views fine-tuning trains on and averages at test time: the 8 flips and quarter turns of the square
 * network input (the dihedral group, which a skin photo has no preferred member of), and half floats to cache them.
 */

/** How many views are cached per image by default: the whole dihedral group. */
export const DIHEDRAL_VIEWS = 8;

/**
 * View k of a square uint8 RGB image (s x s x 3): transposed when k >= 4, then mirrored left-right when bit 0 is
 * set and upside-down when bit 1 is. The exported ONNX model makes the same 8 views (tunedModel.ts).
 */
export function dihedralView(pixels: Uint8Array, s: number, k: number): Uint8Array {
  if (k === 0) return pixels;
  const out = new Uint8Array(pixels.length);
  const transpose = k >= 4;
  const flipX = (k & 1) !== 0;
  const flipY = (k & 2) !== 0;
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      // Output (y, x) reads the transposed-then-flipped source position.
      const yy = flipY ? s - 1 - y : y;
      const xx = flipX ? s - 1 - x : x;
      const [sy, sx] = transpose ? [xx, yy] : [yy, xx];
      const from = (sy * s + sx) * 3;
      const to = (y * s + x) * 3;
      out[to] = pixels[from]!;
      out[to + 1] = pixels[from + 1]!;
      out[to + 2] = pixels[from + 2]!;
    }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE half (round to nearest even), as uint16 bits; overflow to infinity, tiny values to subnormals or 0. */
export function toHalf(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rest > half || (rest === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
}

/** A lookup of all 65536 half values as float32. */
const HALF_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

/** IEEE half bits -> float32. */
export function fromHalf(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  for (let i = 0; i < bits.length; i++) out[i] = HALF_TABLE[bits[i]!]!;
  return out;
}
