import path from 'node:path';
import type { BackboneSpec } from '../../../shared/backbone.ts';
import type { RuntimeInfo, RuntimeName } from '../../../shared/jobs.ts';
import type { FieldValue } from '../../../shared/types.ts';
import { embedColumns } from '../backbone/embedFiles.ts';
import { backboneDigest } from '../backbone/resolve.ts';
import { applyModels, decideClasses } from '../fusion/apply.ts';
import { initBackend, type BackendName } from '../tfjs/backend.ts';
import { bundleBackbones, type Bundle } from './loadBundle.ts';

/** What a bundle says of one image: the class it predicts and each class's probability, or why it could not. */
export interface ScoredRow {
  imageId: string;
  predicted: string | null;
  probabilities: Record<string, number>;
  missingFields: string[];
  error: string | null;
}

/**
 * Scores images with a loaded bundle: decode and embed with its backbone (in a worker, as extraction does), then
 * the fitted PCA, encoder and heads. `meta` rows are in the bundle's field order (null = missing).
 */
export async function scoreImages(
  bundle: Bundle,
  files: { id: string; path: string }[],
  meta: FieldValue[][],
  opts: { backend?: BackendName; runtime?: RuntimeName; signal?: AbortSignal } = {},
): Promise<{ rows: ScoredRow[]; runtime: RuntimeInfo | null; vectors: Float32Array; dim: number }> {
  const { pre, models } = bundle;
  // Heads and PCA run here with the same backend the workbench uses, so predictions match it.
  await initBackend(opts.backend);
  const errors: (string | null)[] = files.map(() => null);
  const dim = models.pca?.dim ?? 0;
  const vectors = new Float32Array(files.length * dim);
  const runtimes: RuntimeInfo[] = [];
  // Each backbone embeds every image in turn; its features fill its columns (the run concatenated them so).
  let offset = 0;
  for (const b of pre.mode === 'metadata' || files.length === 0 ? [] : bundleBackbones(pre)) {
    const { digest, folder, ...rest } = b;
    const spec: BackboneSpec = { ...rest, dir: path.join(bundle.dir, folder) };
    const { width, runtime } = await embedColumns(
      spec,
      digest ?? (await backboneDigest(spec)),
      files.map((f, i) => ({ path: f.path, i })),
      vectors,
      dim,
      offset,
      (item, message) => (errors[item.i] = message),
      opts,
    );
    runtimes.push(runtime);
    offset += width;
  }
  if (offset !== 0 && offset !== dim) throw new Error(`the bundle's backbones give ${offset} features; its model takes ${dim}`);
  // Several backbones: one line naming each one's runtime.
  const runtime: RuntimeInfo | null = runtimes.length
    ? { ...runtimes[0]!, detail: runtimes.map((r) => r.detail).join('; '), notes: runtimes.flatMap((r) => r.notes) }
    : null;
  const ok = files.map((_, i) => i).filter((i) => errors[i] === null);
  const okVectors = new Float32Array(ok.length * dim);
  ok.forEach((i, k) => okVectors.set(vectors.subarray(i * dim, (i + 1) * dim), k * dim));
  const C = pre.classes.length;
  const probs = ok.length
    ? applyModels(
        models,
        pre.mode,
        okVectors,
        ok.map((i) => meta[i]!),
      )
    : new Float64Array(0);
  const decided = decideClasses(models, pre.mode, probs, C);
  const rows: ScoredRow[] = files.map((f, i) => ({
    imageId: f.id,
    predicted: null,
    probabilities: {},
    missingFields: pre.mode === 'image' ? [] : pre.fields.filter((_, j) => meta[i]![j] === null).map((x) => x.name),
    error: errors[i] ?? null,
  }));
  ok.forEach((i, k) => {
    rows[i]!.predicted = pre.classes[decided[k]!]!;
    rows[i]!.probabilities = Object.fromEntries(pre.classes.map((c, j) => [c, probs[k * C + j]!]));
  });
  return { rows, runtime, vectors, dim };
}
