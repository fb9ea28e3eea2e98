import { DermFuseError } from '../../../shared/errors.ts';
import { FieldsRepo } from '../../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../../db/repos/labelsRepo.ts';
import type { Project } from '../../project.ts';
import type { BackendName } from '../backend.ts';
import { loadBundle } from './loadBundle.ts';
import { scoreImages } from './predict.ts';
import { writeTransaction } from '../../db/open.ts';

/**
 * Applies a bundle to the project's unlabelled images and stores each prediction as a suggestion (the class and its
 * probability). For a derived binary target, only the positive/negative decision is suggested.
 */
export async function suggestFromBundle(
  project: Project,
  bundleDir: string,
  backend?: BackendName,
): Promise<{ suggested: number; failed: number; classes: string[] }> {
  const bundle = loadBundle(bundleDir);
  const set = new LabelsRepo(project.db).primarySet();
  if (!set) throw new DermFuseError('NOT_FOUND', 'The project has no label set to suggest labels for.');
  const images = project.db
    .prepare(
      `SELECT i.id, i.external_id, i.path FROM images i LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ?
       WHERE i.status = 'ok' AND l.class_id IS NULL ORDER BY i.id`,
    )
    .all(set.id) as { id: number; external_id: string; path: string }[];
  const repo = new FieldsRepo(project.db);
  const fields = bundle.pre.mode === 'image' ? [] : bundle.pre.fields.map((f) => repo.get(f.name));
  const meta = repo.rows(
    images.map((i) => i.id),
    fields,
  );
  const rows = await scoreImages(
    bundle,
    images.map((i) => ({ id: String(i.id), path: i.path })),
    meta,
    backend,
  );
  const put = project.db.prepare(
    `INSERT INTO suggestions (image_id, label, probability, bundle, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (image_id) DO UPDATE SET label = excluded.label, probability = excluded.probability, bundle = excluded.bundle, created_at = excluded.created_at`,
  );
  const now = new Date().toISOString();
  let suggested = 0;
  writeTransaction(project.db, () => {
    for (const r of rows) {
      if (!r.predicted) continue;
      put.run(Number(r.imageId), r.predicted, r.probabilities[r.predicted]!, bundle.dir, now);
      suggested++;
    }
  })();
  return { suggested, failed: rows.length - suggested, classes: bundle.pre.classes };
}
