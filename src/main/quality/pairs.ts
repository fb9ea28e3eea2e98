import { DermFuseError } from '../../shared/errors.ts';
import { hashDistance } from './phash.ts';
import { projectRows } from './subspace.ts';
export { connectedGroups } from '../ml/stats/splits.ts';

/**
 * When two images are near-duplicates. Neither signal alone separates copies from distinct lesions on clinical
 * photos (distinct PAD photos come within 4 hash bits, and within a cosine of 0.9), together they do: a pair is a
 * near-duplicate when `cosine - PER_BIT x hash bits >= SCORE`, cosine of the features (the built-in MobileNetV2-0.35,
 * SCAN_BACKBONE in scan.ts, centred on the project's mean, unit length) and hash bits the closest flip or quarter
 * turn (0-63), or when the hashes are near-identical (at most hashOnlyBits), features or not. Fitted on the 686 PAD-UFES-20 photos with 140 planted copies (seed 7:
 * recall 0.971, 4 pairs of distinct lesions among 235,000) and checked on another seed in test/realdata/padDuplicates.test.ts.
 */
export const THRESHOLDS = { score: 0.47, perBit: 0.022, hashOnlyBits: 2 } as const;
/** How the rule reads in reports. */
export const RULE_TEXT = `cosine − ${THRESHOLDS.perBit} × hash bits ≥ ${THRESHOLDS.score} (features of the built-in MobileNetV2-0.35, centred), or hash bits ≤ ${THRESHOLDS.hashOnlyBits}`;
/** Rounding room on the subspace bound (float32 sums; axes orthonormal to about 1e-6). */
const BOUND_SLACK = 1e-3;
/** Neighbours whose mean similarity scores how typical an image is (outliers have no close neighbours). */
export const OUTLIER_NEIGHBOURS = 5;
/** Share of images ranked as outliers: the browser's outlier filter shows them, most unusual first. */
export const OUTLIER_SHARE = 0.02;

/** How many of the ranked images count as outliers (at least one when any is ranked). */
export function outlierCount(ranked: number): number {
  return ranked ? Math.max(1, Math.round(ranked * OUTLIER_SHARE)) : 0;
}

export interface NearPair {
  /** Row indices, a < b. */
  a: number;
  b: number;
  /** Hash bits that differ (0-63). */
  hashBits: number;
  /** Cosine of the (centred) features; null without features. */
  cosine: number | null;
  /** pairScore: the rule's margin, for ordering. */
  score: number;
}

export interface PairScan {
  pairs: NearPair[];
  /**
   * Mean cosine to each image's OUTLIER_NEIGHBOURS nearest others, estimated in the principal subspace (NaN for an
   * image without features); null without features.
   */
  typicality: Float64Array | null;
}

/**
 * Centres the rows of an n x d matrix on their mean and scales each to unit length (a zero row stays zero). Pooled
 * CNN features share a large positive part; without centring every pair of skin photos has a cosine above 0.5.
 */
export function centredUnitRows(x: Float32Array, d: number): Float32Array {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let o = 0; o < x.length; o += d) for (let j = 0; j < d; j++) mean[j]! += x[o + j]! / n;
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += d) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = x[o + j]! - mean[j]!;
      out[o + j] = v;
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[o + j]! *= inv;
  }
  return out;
}

/** The pair's score (the higher, the more alike): the rule's left side; without features, 1 - bits / 63. */
export function pairScore(hashBits: number, cosine: number | null): number {
  return cosine === null ? 1 - hashBits / 63 : cosine - THRESHOLDS.perBit * hashBits;
}

export function isNearDuplicate(hashBits: number, cosine: number | null): boolean {
  // Near-identical hashes count whatever the features say: JPEG blocking can move CNN features of a smooth image a lot.
  return hashBits <= THRESHOLDS.hashOnlyBits || (cosine !== null && pairScore(hashBits, cosine) >= THRESHOLDS.score);
}

/** Keeps the k largest values seen, for one row (k is small: an insertion into a sorted array). */
function keepTop(top: Float64Array, row: number, k: number, value: number): void {
  const o = row * k;
  if (value <= top[o + k - 1]!) return;
  let i = k - 1;
  while (i > 0 && top[o + i - 1]! < value) {
    top[o + i] = top[o + i - 1]!;
    i--;
  }
  top[o + i] = value;
}

/**
 * Compares every pair of n images: hashes (n x 16 words from phash.ts) and, when given, centred unit features
 * (n x d). Exact: a pair is tested on its full cosine whenever the subspace bound leaves a match possible (see
 * subspace.ts). Yields to the event loop between blocks of rows so a served UI stays responsive, and stops on abort.
 */
export async function scanPairs(
  n: number,
  hashes: Uint32Array,
  features: { unit: Float32Array; d: number; present: Uint8Array } | null,
  opts: { signal?: AbortSignal; onRows?: (done: number, total: number) => void } = {},
): Promise<PairScan> {
  const k = Math.min(OUTLIER_NEIGHBOURS, Math.max(n - 1, 1));
  const top = features ? new Float64Array(n * k).fill(-2) : null;
  const pairs: NearPair[] = [];
  const f = features?.unit;
  const d = features?.d ?? 0;
  const sub = features ? projectRows(features.unit, d, features.present) : null;
  const q = sub?.k ?? 0;
  const exact = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += f![a * d + j]! * f![b * d + j]!;
    return s;
  };
  let sinceYield = 0;
  for (let a = 0; a < n; a++) {
    const withA = !!sub && features!.present[a] === 1;
    for (let b = a + 1; b < n; b++) {
      const bits = hashDistance(hashes, a, hashes, b);
      if (!withA || !features!.present[b]) {
        if (isNearDuplicate(bits, null)) pairs.push({ a, b, hashBits: bits, cosine: null, score: pairScore(bits, null) });
        continue;
      }
      // The subspace estimate ranks neighbours; the full cosine is computed only where the exact bound allows a match.
      let est = 0;
      for (let c = 0; c < q; c++) est += sub.coords[a * q + c]! * sub.coords[b * q + c]!;
      keepTop(top!, a, k, est);
      keepTop(top!, b, k, est);
      const upper = est + sub.residual[a]! * sub.residual[b]! + BOUND_SLACK;
      if (bits <= THRESHOLDS.hashOnlyBits || upper - THRESHOLDS.perBit * bits >= THRESHOLDS.score) {
        const cosine = exact(a, b);
        if (isNearDuplicate(bits, cosine)) pairs.push({ a, b, hashBits: bits, cosine, score: pairScore(bits, cosine) });
      }
    }
    sinceYield += n - a;
    if (sinceYield > 200_000 || a === n - 1) {
      sinceYield = 0;
      opts.onRows?.(a + 1, n);
      await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) throw new DermFuseError('CANCELLED', 'Near-duplicate scan cancelled; the previous results are kept.');
    }
  }
  let typicality: Float64Array | null = null;
  if (top && n > 1) {
    typicality = new Float64Array(n).fill(NaN);
    for (let i = 0; i < n; i++) {
      if (!features!.present[i]) continue;
      let s = 0;
      for (let j = 0; j < k; j++) s += top[i * k + j]!;
      typicality[i] = s / k;
    }
  }
  return { pairs, typicality };
}
