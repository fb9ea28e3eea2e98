import { DermFuseError } from '../../shared/errors.ts';
import { FieldsRepo } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';
import type { BackendName } from '../ml/tfjs/backend.ts';
import { loadBundle } from '../ml/bundle/loadBundle.ts';
import { scoreImages } from '../ml/bundle/score.ts';
import { repoOf, writeTransaction } from '../db/open.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import { SuggestionsRepo } from '../db/repos/suggestionsRepo.ts';

/**
 * Applies a bundle to the project's unlabelled images and stores each prediction as a suggestion (the class and its
 * probability). For a derived binary target, only the positive/negative decision is suggested.
 */
export async function suggestFromBundle(
  project: Project,
  bundleDir: string,
  backend?: BackendName,
): Promise<{ suggested: number; failed: number; classes: string[]; scored: { imageIds: number[]; probs: Float64Array } }> {
  const bundle = await loadBundle(bundleDir);
  const set = repoOf(project.db, LabelsRepo).primarySet();
  if (!set) throw new DermFuseError('NOT_FOUND', 'The project has no label set to suggest labels for.');
  const images = repoOf(project.db, ImagesRepo).unlabelled(set.id);
  const repo = repoOf(project.db, FieldsRepo);
  const fields = bundle.pre.mode === 'image' ? [] : bundle.pre.fields.map((f) => repo.get(f.name));
  const meta = repo.rows(
    images.map((i) => i.id),
    fields,
  );
  const { rows } = await scoreImages(
    bundle,
    images.map((i) => ({ id: String(i.id), path: i.path })),
    meta,
    { backend },
  );
  const suggestions = repoOf(project.db, SuggestionsRepo);
  const now = new Date().toISOString();
  let suggested = 0;
  writeTransaction(project.db, () => {
    for (const r of rows) {
      if (!r.predicted) continue;
      suggestions.put(Number(r.imageId), r.predicted, r.probabilities[r.predicted]!, bundle.dir, now);
      suggested++;
    }
  })();
  // Each scored image's probabilities, in class order: what the "label next" order is made from.
  const scored = rows.filter((r) => r.predicted);
  const C = bundle.pre.classes.length;
  const probs = new Float64Array(scored.length * C);
  scored.forEach((r, i) => bundle.pre.classes.forEach((c, j) => (probs[i * C + j] = r.probabilities[c] ?? 0)));
  return { suggested, failed: rows.length - suggested, classes: bundle.pre.classes, scored: { imageIds: scored.map((r) => Number(r.imageId)), probs } };
}
