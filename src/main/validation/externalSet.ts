import crypto from 'node:crypto';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue } from '../../shared/types.ts';
import type { ValidationSource } from '../../shared/validation.ts';
import { readTransaction, repoOf } from '../db/open.ts';
import { FieldsRepo } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo, type LabelledImage } from '../db/repos/labelsRepo.ts';
import { runImport } from '../images/importRun.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import { Project } from '../project.ts';
import { checkFolder, folderDescription, planFolder } from './folderTable.ts';

/** The labelled images of the external set, their patients and every metadata field, as the other project holds them. */
export interface ExternalSet {
  project: Project;
  labelSet: string;
  images: LabelledImage[];
  fields: { name: string; type: string }[];
  /** Metadata of each image, in `fields` order. */
  meta: FieldValue[][];
  description: string;
}

/**
 * Opens the external images as a project: another DermFuse project as it is, or an image folder with its CSV
 * imported (the import's own preset detection, typing and checks) into a scratch project in `scratchDir`. An import
 * is idempotent, so validating the same folder again reuses the scratch project and its features.
 */
export async function openExternal(
  source: ValidationSource,
  scratchDir: string,
  opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): Promise<{ project: Project; description: string }> {
  if (source.kind === 'project') {
    if (!Project.exists(source.dir))
      throw new DermFuseError(
        'NOT_A_PROJECT',
        `--on ${source.dir} is not a DermFuse project (no project.sqlite); for an image folder give --images and --metadata.`,
      );
    return { project: Project.open(source.dir), description: `project ${path.resolve(source.dir)}` };
  }
  const { imagesDir, metadataPath } = checkFolder(source);
  const key = crypto
    .createHash('sha256')
    .update(`${imagesDir}\n${metadataPath}\n${source.idColumn ?? ''}\n${source.labelColumn ?? ''}\n${source.patientColumn ?? ''}`)
    .digest('hex');
  const project = Project.create(path.join(scratchDir, key.slice(0, 16))).project;
  try {
    const plan = await planFolder(source, project.dir);
    await runImport(project, plan, { signal: opts.signal, onProgress: opts.onProgress });
  } catch (err) {
    project.close();
    throw err;
  }
  return { project, description: folderDescription(imagesDir, metadataPath) };
}

/**
 * The external project's labelled images under a label set: the one named, else one of the run's label set's name,
 * else its primary one. Its labels, patients and metadata are read in one transaction.
 */
export function readExternal(project: Project, description: string, runLabelSet: string, labelSet?: string): ExternalSet {
  return readTransaction(project.db, () => {
    const labels = repoOf(project.db, LabelsRepo);
    const set = labelSet ? labels.setNamed(labelSet) : (labels.setNamed(runLabelSet) ?? labels.primarySet());
    if (!set) {
      const known = labels.setNames().join(', ') || 'none';
      throw new DermFuseError('NOT_FOUND', `${description}: ${labelSet ? `no label set "${labelSet}"` : 'no labels'}. Label sets there: ${known}.`);
    }
    const images = labels.labelledImages(set.id, 'patient', 'external_id');
    if (images.length === 0) throw new DermFuseError('NOT_FOUND', `${description}: no labelled images in label set "${set.name}".`);
    const fieldsRepo = repoOf(project.db, FieldsRepo);
    const fields = fieldsRepo.list();
    return {
      project,
      labelSet: set.name,
      images,
      fields: fields.map((f) => ({ name: f.name, type: f.type })),
      meta: fieldsRepo.rows(
        images.map((i) => i.id),
        fields,
      ),
      description,
    };
  });
}
