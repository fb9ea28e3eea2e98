/**
 * The cached activations of the frozen trunk: for each image (by content hash) its views' cut tensors as half
 * floats, one fixed-size record per image in `views.f16`, its hash appended to `index.txt` once the record is
 * written. A run killed mid-way keeps every image whose hash reached the index; a torn record past it is cut off
 * on the next open. Records are read back by offset, a batch at a time, so memory stays flat as images grow.
 * One process fills a cache at a time (`fill.lock`, with its pid); readers only read what the index lists.
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { Preprocessing } from '../../../shared/backbone.ts';
import { DermFuseError } from '../../../shared/errors.ts';
import { decodeForBackbone } from '../input/decode.ts';
import { normalise } from '../input/spec.ts';
import { dihedralView, fromHalf, toHalf } from './views.ts';
import { augmentView, cachedViewCount, viewRandom } from './augment.ts';
import type { Augment } from '../../../shared/results.ts';
import { CACHE_FILES, fillLockHolder } from './cacheFolders.ts';

export interface CacheShape {
  /** The cut tensor of one view: [channels, height, width]. */
  dims: [number, number, number];
  views: number;
}

const { index: INDEX, data: DATA, shape: SHAPE, fillLock: LOCK } = CACHE_FILES;

/** Bytes of one image's record: every view's cut tensor as half floats. */
const recordBytesOf = (shape: CacheShape): number => shape.dims[0] * shape.dims[1] * shape.dims[2] * shape.views * 2;

/**
 * Takes the cache's fill lock, or refuses (BUSY) while another living process holds it. A lock of a process that
 * died (kill -9), or of this one (a worker stopped on cancel: one job runs at a time here), is taken over.
 */
function lockFill(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK);
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = fillLockHolder(file);
      if (pid !== null)
        throw new DermFuseError('BUSY', `Another DermFuse process (pid ${pid}) is caching these views (${dir}); fine-tune again when it has finished.`);
      fs.rmSync(file, { force: true });
    }
  }
}

export class ViewCache {
  private readonly index = new Map<string, number>();
  private fd: number;

  private constructor(
    readonly dir: string,
    readonly shape: CacheShape,
    shas: string[],
  ) {
    shas.forEach((s, i) => this.index.set(s, i));
    this.fd = fs.openSync(path.join(dir, DATA), 'r+');
  }

  /** Values in one view's record. */
  get viewSize(): number {
    const [c, h, w] = this.shape.dims;
    return c * h * w;
  }

  private get recordBytes(): number {
    return recordBytesOf(this.shape);
  }

  /**
   * Opens (or starts) the cache in `dir`; `shape` is checked against what is there. Only the `writer` (holding the
   * fill lock) repairs: a torn record past the index is cut off, index lines past a lost tail of the data dropped.
   */
  static open(dir: string, shape: CacheShape | null, writer = false): ViewCache {
    fs.mkdirSync(dir, { recursive: true });
    const shapeFile = path.join(dir, SHAPE);
    let have: CacheShape | null = fs.existsSync(shapeFile) ? (JSON.parse(fs.readFileSync(shapeFile, 'utf8')) as CacheShape) : null;
    if (writer && have && shape && JSON.stringify(have) !== JSON.stringify(shape)) {
      // Another cut shape under the same key cannot happen unless files were changed: start again.
      for (const f of [INDEX, DATA, SHAPE]) fs.rmSync(path.join(dir, f), { force: true });
      have = null;
    }
    const use = have ?? shape;
    if (!use) throw new Error(`${dir}: no cached views`);
    if (!have) fs.writeFileSync(shapeFile, JSON.stringify(use));
    const indexFile = path.join(dir, INDEX);
    const text = fs.existsSync(indexFile) ? fs.readFileSync(indexFile, 'utf8') : '';
    // A line without its newline was being written when the run stopped: it does not count.
    let shas = text.split('\n').slice(0, -1);
    const data = path.join(dir, DATA);
    if (!fs.existsSync(data)) fs.writeFileSync(data, '');
    if (!writer) return new ViewCache(dir, use, shas);
    const recordBytes = recordBytesOf(use);
    const size = fs.statSync(data).size;
    // Records the data file lost (it was cut short) are not there to read: their index lines go, never zeros read.
    if (size < shas.length * recordBytes) shas = shas.slice(0, Math.floor(size / recordBytes));
    if (size !== shas.length * recordBytes) fs.truncateSync(data, shas.length * recordBytes);
    const lines = shas.map((s) => `${s}\n`).join('');
    if (lines !== text) fs.writeFileSync(indexFile, lines);
    return new ViewCache(dir, use, shas);
  }

  get count(): number {
    return this.index.size;
  }

  recordOf(sha: string): number | undefined {
    return this.index.get(sha);
  }

  /** Appends one image's views (views x viewSize half floats). */
  append(sha: string, halves: Uint16Array): void {
    if (halves.length !== this.viewSize * this.shape.views)
      throw new Error(`view record of ${halves.length} values, expected ${this.viewSize * this.shape.views}`);
    if (this.index.has(sha)) return;
    const at = this.index.size * this.recordBytes;
    fs.writeSync(this.fd, new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength), 0, halves.byteLength, at);
    fs.fdatasyncSync(this.fd);
    fs.appendFileSync(path.join(this.dir, INDEX), `${sha}\n`);
    this.index.set(sha, this.index.size);
  }

  /** Views of records as float32, [records.length, viewSize] (view k of record r where views[r] = k). */
  read(records: number[], views: number[], out = new Float32Array(records.length * this.viewSize)): Float32Array {
    const bytes = this.viewSize * 2;
    const buf = Buffer.allocUnsafe(bytes);
    const halves = new Uint16Array(buf.buffer, buf.byteOffset, this.viewSize);
    records.forEach((r, k) => {
      fs.readSync(this.fd, buf, 0, bytes, r * this.recordBytes + views[k]! * bytes);
      fromHalf(halves, out.subarray(k * this.viewSize, (k + 1) * this.viewSize));
    });
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Inputs run through the trunk together: 4 images x 8 views (2 images with 8 augmented views beside them). */
const INPUTS_PER_RUN = 32;

export interface FillOptions {
  trunk: Uint8Array | null;
  inputName: string;
  cut: string;
  pre: Preprocessing;
  /** Flips and quarter turns per image (views 0 .. views-1). */
  views: number;
  /** Random views beside them (augment.ts): with any, views .. 2*views-1 are flips and turns of random crops or colours. */
  augment: readonly Augment[];
  threads: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs the frozen trunk over every image not yet cached (each view) and appends the records. `trunk` null: the cut
 * is the input itself (the whole network trains), so the cached value is the preprocessed view.
 */
export async function fillViewCache(dir: string, images: { sha: string; path: string }[], o: FillOptions): Promise<ViewCache> {
  const unlock = lockFill(dir);
  const s = o.pre.inputSize;
  // Everything after the lock is in the try: the lock goes whatever fails (the trunk's session, the cache's files).
  let session: ort.InferenceSession | null = null;
  try {
    session = o.trunk
      ? await ort.InferenceSession.create(o.trunk, {
          intraOpNumThreads: o.threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        })
      : null;
    const embed = async (x: Float32Array, n: number): Promise<{ data: Float32Array; dims: [number, number, number] }> => {
      if (!session) return { data: x, dims: [3, s, s] };
      const r = await session.run({ [o.inputName]: new ort.Tensor('float32', x, [n, 3, s, s]) }, [o.cut]);
      const t = r[o.cut]!;
      const dims = t.dims as readonly number[];
      if (dims.length !== 4) throw new Error(`the cut tensor "${o.cut}" is ${dims.length}-d; fine-tuning cuts at a feature map [n, c, h, w]`);
      return { data: t.data as Float32Array, dims: [dims[1]!, dims[2]!, dims[3]!] };
    };
    let cache: ViewCache | null = fs.existsSync(path.join(dir, SHAPE)) ? ViewCache.open(dir, null, true) : null;
    const todo = images.filter((im) => cache?.recordOf(im.sha) === undefined);
    const seen = new Set<string>();
    const unique = todo.filter((im) => !seen.has(im.sha) && seen.add(im.sha));
    let done = images.length - todo.length;
    o.onProgress?.(done, images.length);
    const total = cachedViewCount(o.views, o.augment);
    const imagesPerRun = Math.max(1, Math.floor(INPUTS_PER_RUN / total));
    for (let i = 0; i < unique.length; i += imagesPerRun) {
      const batch = unique.slice(i, i + imagesPerRun);
      const pixels = await Promise.all(
        batch.map((im) =>
          decodeForBackbone(im.path, o.pre).catch((err: unknown) => {
            throw new Error(`${im.path}: ${err instanceof Error ? err.message : String(err)}`);
          }),
        ),
      );
      const per = 3 * s * s;
      const x = new Float32Array(batch.length * total * per);
      pixels.forEach((p, b) => {
        const base = new Uint8Array(p.buffer, p.byteOffset, p.length);
        for (let v = 0; v < total; v++) {
          const source = v < o.views ? base : augmentView(base, s, o.augment, viewRandom(batch[b]!.sha, v));
          x.set(normalise(dihedralView(source, s, v % o.views), o.pre, 'nchw'), (b * total + v) * per);
        }
      });
      const { data, dims } = await embed(x, batch.length * total);
      cache ??= ViewCache.open(dir, { dims, views: total }, true);
      const record = cache.viewSize * total;
      batch.forEach((im, b) => cache!.append(im.sha, toHalf(data.subarray(b * record, (b + 1) * record))));
      done += batch.length;
      o.onProgress?.(done, images.length);
    }
    if (!cache) throw new Error('no images to cache');
    return cache;
  } finally {
    unlock();
    await session?.release();
  }
}
