import { DermFuseError } from '../../../shared/errors.ts';
import { repoOf } from '../../db/open.ts';
import { csvCell } from '../../files/csv.ts';
import { writeOutputFile } from '../../files/write.ts';
import type { Project } from '../../project.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';

/** Finds a backbone of the project by its key or by name (the most recent configuration of that name). */
export function findBackboneKey(store: FeatureStore, ref: string): string {
  const all = store.backbones();
  const hit = all.find((b) => b.key === ref) ?? all.find((b) => b.name === ref);
  if (!hit) {
    const known = all.map((b) => `${b.key} (${b.count} images)`).join(', ') || 'none: run dermfuse extract first';
    throw new DermFuseError('NOT_FOUND', `No features for backbone "${ref}" in this project. Known: ${known}`);
  }
  return hit.key;
}

/** Writes `image_id, f0 … f(d-1)` for every readable image that has features under the backbone. */
export async function exportFeatures(project: Project, ref: string, out: string): Promise<{ key: string; rows: number; dim: number }> {
  const store = repoOf(project.db, FeatureStore);
  const key = findBackboneKey(store, ref);
  const rows = store.imageVectors(key);
  const dim = rows[0]?.vector.length ?? 0;
  const lines = [['image_id', ...Array.from({ length: dim }, (_, i) => `f${i}`)].join(',')];
  for (const r of rows) lines.push(`${csvCell(r.externalId)},${Array.from(r.vector, (v) => String(v)).join(',')}`);
  await writeOutputFile(out, Buffer.from(lines.join('\n') + '\n', 'utf8'));
  return { key, rows: rows.length, dim };
}
