import { DermFuseError } from '../../shared/errors.ts';
import type { RuntimeName } from '../../shared/jobs.ts';
import { repoOf } from '../db/open.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import { embedColumns } from '../ml/backbone/embedFiles.ts';
import { backboneDigest } from '../ml/backbone/resolve.ts';
import { KEY_SEPARATOR } from '../ml/fusion/dataset.ts';
import type { Project } from '../project.ts';

export interface ExternalFeatures {
  /** n × dim, row-major: every backbone of the run side by side, as the run concatenated them. */
  vectors: Float32Array;
  dim: number;
  /** Per image: why it has no features (null: it has). */
  errors: (string | null)[];
  /** Images whose every backbone's vector was cached; images embedded now (at least one backbone) without failing. */
  cached: number;
  computed: number;
}

/**
 * The run's image features of the external images: read from the other project's cache where it extracted them
 * with the same backbone configuration (the same key), else computed now with the run's own backbone files. Another
 * user's project is not written to; with `cache` (the stored copy of a validated folder, ours) the vectors computed
 * are stored in it under the run's backbone key, so the next validation of the unchanged folder reads them.
 */
export async function externalFeatures(
  runProject: Project,
  backboneKey: string,
  other: Project,
  files: { sha256: string; path: string }[],
  opts: { signal?: AbortSignal; onProgress?: ProgressFn; runtime?: RuntimeName; cache?: boolean } = {},
): Promise<ExternalFeatures> {
  const keys = backboneKey.split(KEY_SEPARATOR);
  const runStore = repoOf(runProject.db, FeatureStore);
  const otherStore = repoOf(other.db, FeatureStore);
  const backbones = keys.map((key) => {
    const b = runStore.backbone(key);
    if (!b) throw new DermFuseError('NOT_FOUND', `The run's backbone ${key} is not recorded in its project any more: extract again to restore it.`);
    return { key, ...b };
  });
  const dim = backbones.reduce((s, b) => s + b.dim, 0);
  const vectors = new Float32Array(files.length * dim);
  const errors: (string | null)[] = files.map(() => null);
  const embedded = new Set<number>();
  let offset = 0;
  for (const b of backbones) {
    const missing: { path: string; i: number }[] = [];
    files.forEach((f, i) => {
      const v = otherStore.vector(b.key, f.sha256);
      if (v && v.length === b.dim) vectors.set(v, i * dim + offset);
      else missing.push({ path: f.path, i });
    });
    if (missing.length > 0) {
      opts.onProgress?.({ phase: 'embed', done: 0, total: missing.length, message: `embedding ${missing.length} images with ${b.spec.name}` });
      const { digest, ...spec } = b.spec;
      const current = await backboneDigest(spec);
      if (digest && current !== digest)
        throw new DermFuseError(
          'INVALID_VALUE',
          `The backbone files in ${spec.dir} changed since the run extracted its features: the external features would not match the run's.`,
        );
      const failed = new Set<number>();
      await embedColumns(
        spec,
        digest ?? current,
        missing,
        vectors,
        dim,
        offset,
        (item, message) => {
          errors[item.i] = message;
          failed.add(item.i);
        },
        opts,
      );
      for (const m of missing) embedded.add(m.i);
      if (opts.cache) {
        otherStore.registerBackbone(b.key, spec, b.dim, digest ?? current);
        const rows = missing
          .filter((m) => !failed.has(m.i))
          .map((m) => ({ sha256: files[m.i]!.sha256, vector: vectors.slice(m.i * dim + offset, m.i * dim + offset + b.dim) }));
        otherStore.put(b.key, rows);
      }
    }
    offset += b.dim;
  }
  const computed = [...embedded].filter((i) => errors[i] === null).length;
  const cached = files.length - embedded.size;
  return { vectors, dim, errors, cached, computed };
}
