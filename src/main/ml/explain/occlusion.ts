import sharp from 'sharp';
import type { BackboneSpec, Preprocessing } from '../../../shared/backbone.ts';
import { DermFuseError } from '../../../shared/errors.ts';
import type { OcclusionMap } from '../../../shared/explain.ts';
import type { FieldValue } from '../../../shared/types.ts';
import { MAX_INPUT_PIXELS } from '../../files/imageFiles.ts';
import { startEmbedding, type EmbedderOptions } from '../backbone/embedFiles.ts';
import type { EmbedPool } from '../backbone/workerPool.ts';
import type { FinalModels, Mode } from '../fusion/crossval.ts';
import { encodeRow } from '../fusion/tabular.ts';
import { decodeForBackbone } from '../input/decode.ts';
import { caseProbabilities, projectOne } from './forward.ts';

/** Patch positions per side: 8 × 8 = 64 occluded copies, embedded with the original. */
export const OCCLUSION_GRID = 8;
/** Hidden patches are filled with mid grey (uint8), before the backbone's own normalisation. */
const GREY = 128;
/** A pool of embedding workers is closed after this long unused (a reviewer opening case after case reuses it). */
const IDLE_MS = 120_000;

/** One backbone of a run, in the order its features are concatenated. */
export interface OcclusionBackbone {
  spec: BackboneSpec;
  digest: string;
}

/** A patch in fractions of the oriented image: `grid` positions per side, each 2/(grid+1) wide (half-overlapping). */
export function patchRect(grid: number, gx: number, gy: number): { x0: number; y0: number; x1: number; y1: number } {
  const stride = 1 / (grid + 1);
  return { x0: gx * stride, y0: gy * stride, x1: (gx + 2) * stride, y1: (gy + 2) * stride };
}

/**
 * Where a point given in fractions of the oriented image (w × h) lands in the backbone's input (input pixels), after
 * decodeForBackbone's resize: squashed to the input, or the short side scaled (to inputSize / crop) and the middle kept.
 */
export function toInput(pre: Preprocessing, w: number, h: number): (fx: number, fy: number) => [number, number] {
  const s = pre.inputSize;
  if (pre.resize === 'squash') return (fx, fy) => [fx * s, fy * s];
  const outer = pre.crop !== undefined && pre.crop < 1 ? Math.round(s / pre.crop) : s;
  const scale = outer / Math.min(w, h);
  const [W, H] = [w * scale, h * scale];
  return (fx, fy) => [fx * W - (W - s) / 2, fy * H - (H - s) / 2];
}

/** The original decoded input followed by one copy per patch with the patch filled grey (uint8 RGB, (1+grid²) × s × s × 3). */
export function occludedCopies(pixels: Uint8Array, pre: Preprocessing, w: number, h: number, grid: number): Uint8Array {
  const s = pre.inputSize;
  const size = s * s * 3;
  const out = new Uint8Array((1 + grid * grid) * size);
  out.set(pixels, 0);
  const map = toInput(pre, w, h);
  const clamp = (v: number) => Math.min(s, Math.max(0, Math.round(v)));
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const k = 1 + gy * grid + gx;
      const copy = out.subarray(k * size, (k + 1) * size);
      copy.set(pixels);
      const r = patchRect(grid, gx, gy);
      const [ax, ay] = map(r.x0, r.y0);
      const [bx, by] = map(r.x1, r.y1);
      const [x0, x1, y0, y1] = [clamp(ax), clamp(bx), clamp(ay), clamp(by)];
      for (let y = y0; y < y1; y++) copy.fill(GREY, (y * s + x0) * 3, (y * s + x1) * 3);
    }
  }
  return out;
}

/** The image's width and height as displayed (EXIF orientation applied), which the patches are fractions of. */
async function orientedSize(file: string | Buffer): Promise<{ w: number; h: number }> {
  const m = await sharp(file, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  const turned = (m.orientation ?? 1) >= 5;
  const [w, h] = [m.width ?? 0, m.height ?? 0];
  return turned ? { w: h, h: w } : { w, h };
}

/**
 * The copies split into one batch per worker, embedded at once. Measured on 2 cores (built-in MobileNetV2-0.35, ONNX
 * Runtime, 65 copies): two workers of one thread with 33 + 32 copies take 0.4 s, one worker of two threads 0.7 s.
 */
async function embedSplit(pool: EmbedPool, pixels: Uint8Array, n: number): Promise<Float32Array> {
  const per = pixels.length / n;
  const parts = Math.min(pool.size, n);
  const sizes = Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
  let at = 0;
  const chunks = await Promise.all(
    sizes.map((m) => {
      const from = at;
      at += m;
      return pool.embed(pixels.slice(from * per, (from + m) * per), m);
    }),
  );
  const out = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Embedding workers for occlusion, one pool per backbone (as many workers as extraction starts), the copies of an
 * image split among them. Kept for reuse while a reviewer opens case after case.
 */
export class Occluder {
  private readonly pools = new Map<string, { pool: Promise<EmbedPool>; timer: NodeJS.Timeout | null }>();

  constructor(private readonly opts: EmbedderOptions = {}) {}

  private key(b: OcclusionBackbone): string {
    return `${b.spec.name}:${b.digest}:${b.spec.dir}`;
  }

  private async drop(b: OcclusionBackbone): Promise<void> {
    const e = this.pools.get(this.key(b));
    this.pools.delete(this.key(b));
    if (e?.timer) clearTimeout(e.timer);
    await e?.pool.then((p) => p.close()).catch(() => undefined);
  }

  private pool(b: OcclusionBackbone): Promise<EmbedPool> {
    const key = this.key(b);
    let entry = this.pools.get(key);
    if (!entry) {
      const pool = startEmbedding(b.spec, b.digest, this.opts).then((x) => x.pool);
      const started: { pool: Promise<EmbedPool>; timer: NodeJS.Timeout | null } = { pool, timer: null };
      entry = started;
      this.pools.set(key, started);
      // A pool that fails to start: forget it (only it, never a newer pool of the same key) and its idle timer.
      pool.catch(() => {
        if (started.timer) clearTimeout(started.timer);
        started.timer = null;
        if (this.pools.get(key) === started) this.pools.delete(key);
      });
    }
    if (entry.timer) clearTimeout(entry.timer);
    const e = entry;
    e.timer = setTimeout(() => {
      if (this.pools.get(key) === e) this.pools.delete(key);
      void e.pool.then((p) => p.close()).catch(() => undefined);
    }, IDLE_MS);
    e.timer.unref();
    return e.pool;
  }

  /**
   * Feature vectors (concatenated over the backbones) of the original and every occluded copy: (1 + grid²) × dim.
   * `file`: the photo's path, or its bytes as read by a caller that checked where it lies.
   */
  async vectors(file: string | Buffer, backbones: OcclusionBackbone[], grid: number, signal?: AbortSignal): Promise<{ vectors: Float32Array; dim: number }> {
    const { w, h } = await orientedSize(file);
    if (!w || !h) throw new DermFuseError('INVALID_VALUE', `${typeof file === 'string' ? file : 'The photo'}: cannot read the image's size.`);
    const n = 1 + grid * grid;
    const parts: { v: Float32Array; dim: number }[] = [];
    for (const b of backbones) {
      if (signal?.aborted) throw new DermFuseError('CANCELLED', 'Explaining was cancelled.');
      const pixels = await decodeForBackbone(file, b.spec.preprocessing);
      let v: Float32Array;
      try {
        v = await embedSplit(await this.pool(b), occludedCopies(pixels, b.spec.preprocessing, w, h, grid), n);
      } catch (err) {
        // A crashed worker fails every later batch of its pool: start afresh next time.
        await this.drop(b);
        throw err;
      }
      parts.push({ v, dim: v.length / n });
    }
    const dim = parts.reduce((s, p) => s + p.dim, 0);
    const vectors = new Float32Array(n * dim);
    let offset = 0;
    for (const p of parts) {
      for (let i = 0; i < n; i++) vectors.set(p.v.subarray(i * p.dim, (i + 1) * p.dim), i * dim + offset);
      offset += p.dim;
    }
    return { vectors, dim };
  }

  async close(): Promise<void> {
    const entries = [...this.pools.values()];
    this.pools.clear();
    for (const e of entries) if (e.timer) clearTimeout(e.timer);
    await Promise.all(entries.map((e) => e.pool.then((p) => p.close()).catch(() => undefined)));
  }
}

/**
 * Where the model looked: every patch of the image hidden in turn, all copies embedded at once (a batch per worker), and the drop in
 * class c's probability from the unoccluded copy to each occluded one, with the image's own metadata held fixed.
 */
export function occlusionFromVectors(
  models: FinalModels,
  mode: Mode,
  vectors: Float32Array,
  dim: number,
  row: readonly FieldValue[],
  c: number,
  grid: number,
): OcclusionMap {
  const meta = mode !== 'image' && models.encoder.width > 0 ? Float64Array.from(encodeRow(models.encoder, row)) : null;
  const p = (k: number) => caseProbabilities(models, mode, { image: projectOne(models.pca, vectors.subarray(k * dim, (k + 1) * dim)), meta })[c]!;
  const p0 = p(0);
  const cells = Array.from({ length: grid }, (_, gy) => Array.from({ length: grid }, (_, gx) => round(p0 - p(1 + gy * grid + gx))));
  return { grid, cells, probability: round(p0), fill: 'grey' };
}

/** Stored and served to 1e-7: far below any visible difference, and the same in the cache and fresh. */
const round = (x: number) => Math.round(x * 1e7) / 1e7;

/** Occlusion map of one image file (its path or its bytes) under a run's (or a bundle's) final model. */
export async function occlusionMap(
  occluder: Occluder,
  models: FinalModels,
  mode: Mode,
  file: string | Buffer,
  backbones: OcclusionBackbone[],
  row: readonly FieldValue[],
  c: number,
  grid = OCCLUSION_GRID,
  signal?: AbortSignal,
): Promise<OcclusionMap> {
  if (mode === 'metadata') throw new DermFuseError('INVALID_ARGUMENT', 'A metadata-only model does not look at the photo: it has no occlusion map.');
  const { vectors, dim } = await occluder.vectors(file, backbones, grid, signal);
  return occlusionFromVectors(models, mode, vectors, dim, row, c, grid);
}
