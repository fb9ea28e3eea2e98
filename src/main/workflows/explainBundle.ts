import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue } from '../../shared/types.ts';
import type { OcclusionMap } from '../../shared/explain.ts';
import { makeDirs } from '../files/fsChecks.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import { backboneDigest } from '../ml/backbone/resolve.ts';
import { bundleBackbones, type Bundle } from '../ml/bundle/loadBundle.ts';
import { explainCase } from '../ml/explain/contributions.ts';
import { caseProbabilities, decideOne, projectOne } from '../ml/explain/forward.ts';
import { heatmapPng } from '../ml/explain/heatmapPng.ts';
import { Occluder, occlusionMap, type OcclusionBackbone } from '../ml/explain/occlusion.ts';
import { encodeRow } from '../ml/fusion/tabular.ts';
import type { EmbedderOptions } from '../ml/backbone/embedFiles.ts';

/** Why a bundle predicted what it did for one image: a column per contribution and the heatmap's file name. */
export interface BundleExplanation {
  /** contrib_<field> and contrib_image, in log-odds of the predicted class. */
  contributions: Record<string, number>;
  method: 'exact' | 'replacement';
  /** File name of the heatmap PNG in the --explain folder (metadata models: none). */
  heatmap: string | null;
  occlusion: OcclusionMap | null;
}

/**
 * The heatmap's file name for the image on row `row` (0-based) of the predictions: `<row + 1>-<id>.png`, the id with
 * anything but letters, digits, `.`, `-` and `_` replaced by `_`. The row number makes it unique when two images in
 * different subfolders share a name (or two ids sanitise alike).
 */
export function heatmapName(row: number, id: string): string {
  return `${row + 1}-${id.replace(/[^\w.-]+/g, '_')}.png`;
}

/** Writes `data` to `file` whole (temp file, then a link) and never over an existing file: that is refused by name. */
async function writeNew(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  await fsp.writeFile(tmp, data, { flag: 'wx' });
  try {
    await fsp.link(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new DermFuseError('INVALID_ARGUMENT', `--explain: ${file} already exists; it is left as it was. Choose an empty --explain folder.`);
    // A file system without hard links: copy, refusing an existing file all the same.
    try {
      await fsp.copyFile(tmp, file, fs.constants.COPYFILE_EXCL);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new DermFuseError('INVALID_ARGUMENT', `--explain: ${file} already exists; it is left as it was. Choose an empty --explain folder.`);
      throw e;
    }
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

/**
 * Explains each scored image with the bundle's own models and backbones: the contributions from its features and
 * metadata, and an occlusion map written as `heatmapName(row, id)` into `dir` (each written whole, or not at all;
 * an existing file is never overwritten but refused by name, before any work when it is there from the start).
 * Explanations are keyed by `row`, the image's row in the predictions, as ids need not be unique. Long: reports
 * progress per image and stops between images when `signal` aborts, saying how far it got.
 */
export async function explainScored(
  bundle: Bundle,
  items: { row: number; id: string; path: string; vector: Float32Array | null; meta: FieldValue[] }[],
  dir: string,
  opts: EmbedderOptions & { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): Promise<Map<number, BundleExplanation>> {
  const { pre, models } = bundle;
  makeDirs(dir, '--explain folder');
  if (pre.mode !== 'metadata') {
    const taken = items.map((x) => path.join(dir, heatmapName(x.row, x.id))).find((f) => fs.existsSync(f));
    if (taken) throw new DermFuseError('INVALID_ARGUMENT', `--explain: ${taken} already exists; it is left as it was. Choose an empty --explain folder.`);
  }
  const backbones: OcclusionBackbone[] = await Promise.all(
    bundleBackbones(pre).map(async ({ digest, folder, ...rest }) => {
      const spec = { ...rest, dir: path.join(bundle.dir, folder) };
      return { spec, digest: digest ?? (await backboneDigest(spec)) };
    }),
  );
  const occluder = new Occluder(opts);
  const out = new Map<number, BundleExplanation>();
  try {
    for (const [i, item] of items.entries()) {
      if (opts.signal?.aborted)
        throw new DermFuseError('CANCELLED', `Explaining stopped after ${i} of ${items.length} images; the heatmaps in ${dir} so far are complete.`);
      opts.onProgress?.({ phase: 'explain', done: i, total: items.length, message: item.id });
      const image = pre.mode === 'metadata' || !item.vector ? null : projectOne(models.pca!, item.vector);
      const meta = pre.mode === 'image' || models.encoder.width === 0 ? null : Float64Array.from(encodeRow(models.encoder, item.meta));
      const c = decideOne(models, pre.mode, caseProbabilities(models, pre.mode, { image, meta }));
      const e = explainCase(models, pre.mode, pre.mode === 'metadata' ? null : item.vector, item.meta, c);
      let heatmap: string | null = null;
      let map: OcclusionMap | null = null;
      if (pre.mode !== 'metadata') {
        map = await occlusionMap(occluder, models, pre.mode, item.path, backbones, item.meta, c, undefined, opts.signal);
        heatmap = heatmapName(item.row, item.id);
        await writeNew(path.join(dir, heatmap), await heatmapPng(item.path, map, pre.classes[c]!));
      }
      out.set(item.row, {
        contributions: Object.fromEntries(e.contributions.map((x) => [`contrib_${x.field}`, x.contribution])),
        method: e.method,
        heatmap,
        occlusion: map,
      });
    }
    opts.onProgress?.({ phase: 'explain', done: items.length, total: items.length });
  } finally {
    await occluder.close();
  }
  return out;
}
