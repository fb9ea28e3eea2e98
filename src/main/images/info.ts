import type { ProjectInfo } from '../../shared/types.ts';
import { FieldsRepo, toField } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';

/** Counts and schema of a project, as `dermfuse info` and the start screen show them. */
export function projectInfo(project: Project): ProjectInfo {
  const db = project.db;
  const one = (sql: string, ...params: unknown[]): number =>
    (db
      .prepare(sql)
      .pluck()
      .get(...params) as number) ?? 0;
  const labels = new LabelsRepo(db);
  const primary = labels.primarySet();
  return {
    dir: project.dir,
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    images: one(`SELECT COUNT(*) FROM images WHERE status = 'ok'`),
    imagesFailed: one(`SELECT COUNT(*) FROM images WHERE status = 'error'`),
    labelled: primary
      ? one(
          `SELECT COUNT(*) FROM current_labels l JOIN images i ON i.id = l.image_id
           WHERE l.label_set_id = ? AND l.class_id IS NOT NULL AND i.status = 'ok'`,
          primary.id,
        )
      : 0,
    label: primary?.name ?? null,
    classes: primary ? labels.classCounts(primary.id) : {},
    patients: one(`SELECT COUNT(DISTINCT patient_id) FROM images WHERE status = 'ok' AND patient_id IS NOT NULL`),
    lesions: one(`SELECT COUNT(DISTINCT lesion_id) FROM images WHERE status = 'ok' AND lesion_id IS NOT NULL`),
    fields: new FieldsRepo(db).list().map(toField),
  };
}
