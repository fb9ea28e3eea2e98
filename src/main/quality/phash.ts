/** Side of the grey image the DCT runs on (the classic pHash size). */
export const GRID = 32;
/** Low frequencies kept per axis: 8 x 8 coefficients, the DC term dropped, give 63 bits. */
const LOW = 8;
/** The eight flips and quarter turns of a square: a hash per variant makes matching blind to them. */
export const VARIANTS = 8;
/** Bytes of one stored hash set: VARIANTS hashes of two 32-bit words each. */
export const HASH_BYTES = VARIANTS * 8;

const COS = Float64Array.from({ length: LOW * GRID }, (_, i) => Math.cos(((2 * (i % GRID) + 1) * Math.floor(i / GRID) * Math.PI) / (2 * GRID)));

/** The low-frequency 8 x 8 DCT-II block of a 32 x 32 grey image, row v (vertical frequency), column u. */
function lowDct(grey: Uint8Array | Buffer): Float64Array {
  const rows = new Float64Array(GRID * LOW);
  for (let y = 0; y < GRID; y++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let x = 0; x < GRID; x++) s += grey[y * GRID + x]! * COS[u * GRID + x]!;
      rows[y * LOW + u] = s;
    }
  }
  const out = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let y = 0; y < GRID; y++) s += rows[y * LOW + u]! * COS[v * GRID + y]!;
      out[v * LOW + u] = s;
    }
  }
  return out;
}

/** 63 bits: each AC coefficient above the block's median. Brightness moves only the DC term, contrast scales all. */
function bitsOf(block: Float64Array, out: Uint32Array, at: number): void {
  const ac = Array.from(block.subarray(1));
  const sorted = [...ac].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  let lo = 0;
  let hi = 0;
  ac.forEach((c, i) => {
    if (c <= median) return;
    if (i < 32) lo |= 1 << i;
    else hi |= 1 << (i - 32);
  });
  out[at] = lo >>> 0;
  out[at + 1] = hi >>> 0;
}

/**
 * The hashes of an image's eight flips and quarter turns, from one DCT: a horizontal flip negates the odd horizontal
 * frequencies, a vertical flip the odd vertical ones, and a transpose swaps the axes (a quarter turn is a transpose
 * and a flip).
 */
export function hashesOfGrey(grey: Uint8Array | Buffer): Uint32Array {
  const base = lowDct(grey);
  const out = new Uint32Array(VARIANTS * 2);
  const block = new Float64Array(LOW * LOW);
  for (let k = 0; k < VARIANTS; k++) {
    const transpose = (k & 4) !== 0;
    const flipH = (k & 1) !== 0;
    const flipV = (k & 2) !== 0;
    for (let v = 0; v < LOW; v++) {
      for (let u = 0; u < LOW; u++) {
        const c = transpose ? base[u * LOW + v]! : base[v * LOW + u]!;
        block[v * LOW + u] = c * (flipH && u % 2 ? -1 : 1) * (flipV && v % 2 ? -1 : 1);
      }
    }
    bitsOf(block, out, k * 2);
  }
  return out;
}

/** Standard deviation of the grey levels (0-255): near 0 for a blank frame, whatever its colour. */
export function contrastOf(grey: Uint8Array | Buffer): number {
  let s = 0;
  let s2 = 0;
  for (const v of grey) {
    s += v;
    s2 += v * v;
  }
  const m = s / grey.length;
  return Math.sqrt(Math.max(0, s2 / grey.length - m * m));
}

export function hashesFromBlob(blob: Buffer): Uint32Array {
  if (blob.length !== HASH_BYTES) throw new Error(`a stored hash has ${blob.length} bytes, expected ${HASH_BYTES}`);
  return new Uint32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.length));
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits that differ between a's own hash and the closest of b's eight variants (0-63). */
export function hashDistance(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  const a0 = a[ai * VARIANTS * 2]!;
  const a1 = a[ai * VARIANTS * 2 + 1]!;
  let best = 64;
  for (let k = 0; k < VARIANTS; k++) {
    const o = bi * VARIANTS * 2 + k * 2;
    const d = popcount(a0 ^ b[o]!) + popcount(a1 ^ b[o + 1]!);
    if (d < best) best = d;
  }
  return best;
}
