import type { ProjectInfo } from '../../shared/types.ts';
import { FieldsRepo, toField } from '../db/repos/fieldsRepo.ts';
import { repoOf } from '../db/open.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';

/** Counts and schema of a project, as `dermfuse info` and the start screen show them. */
export function projectInfo(project: Project): ProjectInfo {
  const db = project.db;
  const labels = repoOf(db, LabelsRepo);
  const primary = labels.primarySet();
  const counts = repoOf(db, ImagesRepo).counts();
  return {
    dir: project.dir,
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    images: counts.ok,
    imagesFailed: counts.failed,
    labelled: primary ? labels.labelled(primary.id) : 0,
    label: primary?.name ?? null,
    classes: primary ? labels.classCounts(primary.id) : {},
    patients: counts.patients,
    lesions: counts.lesions,
    fields: repoOf(db, FieldsRepo).list().map(toField),
  };
}
