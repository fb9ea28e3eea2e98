import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue } from '../../shared/types.ts';
import type { OcclusionMap } from '../../shared/explain.ts';
import { makeDirs } from '../files/fsChecks.ts';
import { writeAtomic } from '../files/write.ts';
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
 * Explains each scored image with the bundle's own models and backbones: the contributions from its features and
 * metadata, and an occlusion map written as `<id>.png` into `dir` (each written whole, or not at all). Long: reports
 * progress per image and stops between images when `signal` aborts, saying how far it got.
 */
export async function explainScored(
  bundle: Bundle,
  items: { id: string; path: string; vector: Float32Array | null; meta: FieldValue[] }[],
  dir: string,
  opts: EmbedderOptions & { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): Promise<Map<string, BundleExplanation>> {
  const { pre, models } = bundle;
  makeDirs(dir, '--explain folder');
  const backbones: OcclusionBackbone[] = await Promise.all(
    bundleBackbones(pre).map(async ({ digest, folder, ...rest }) => {
      const spec = { ...rest, dir: path.join(bundle.dir, folder) };
      return { spec, digest: digest ?? (await backboneDigest(spec)) };
    }),
  );
  const occluder = new Occluder(opts);
  const out = new Map<string, BundleExplanation>();
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
        heatmap = `${item.id.replace(/[^\w.-]+/g, '_')}.png`;
        await writeAtomic(path.join(dir, heatmap), await heatmapPng(item.path, map, pre.classes[c]!));
      }
      out.set(item.id, {
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
