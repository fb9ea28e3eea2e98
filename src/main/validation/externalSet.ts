import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue, ImportProblem } from '../../shared/types.ts';
import type { ValidationSource } from '../../shared/validation.ts';
import { readTransaction, repoOf } from '../db/open.ts';
import { FieldsRepo } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo, type LabelledImage } from '../db/repos/labelsRepo.ts';
import { runImport } from '../images/importRun.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import { Project } from '../project.ts';
import { writeAtomic } from '../files/write.ts';
import { checkFolder, folderDescription, planFolder, type FolderSource } from './folderTable.ts';

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

/** The stored copy's record of what it was built from, beside its project.sqlite. */
const SOURCE_FILE = 'validation-source.json';
/** Bumped when what the fingerprint covers changes, so older copies are rebuilt rather than trusted. */
const FINGERPRINT_VERSION = 'v1';

/** The external images opened as a project, and what the import of a folder found wrong in its CSV or files. */
export interface OpenedExternal {
  project: Project;
  description: string;
  /** True for a folder's stored copy (ours to write features into); false for another user's project. */
  copy: boolean;
  problems: ImportProblem[];
}

/**
 * What a folder source's copy is built from: the CSV's bytes, every file under the image folder with its size and
 * modification time, and the columns named. Any change (a row deleted, a label or age edited, a photo replaced)
 * gives another fingerprint, so the copy is rebuilt from scratch instead of merged into.
 */
export function folderFingerprint(source: FolderSource, imagesDir: string, metadataPath: string): string {
  const hash = crypto.createHash('sha256');
  hash.update(`${FINGERPRINT_VERSION}\n${source.idColumn ?? ''}\n${source.labelColumn ?? ''}\n${source.patientColumn ?? ''}\n`);
  hash.update(crypto.createHash('sha256').update(fs.readFileSync(metadataPath)).digest('hex'));
  const listing = fs
    .readdirSync(imagesDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      const st = fs.statSync(file);
      return `${path.relative(imagesDir, file)}\t${st.size}\t${st.mtimeMs}`;
    })
    .sort();
  for (const line of listing) hash.update(`\n${line}`);
  return hash.digest('hex');
}

const StoredSource = z.object({
  fingerprint: z.string(),
  problems: z.array(
    z.object({ source: z.string(), message: z.string(), line: z.number().optional(), column: z.string().optional(), value: z.string().optional() }),
  ),
});

/** The stored copy's record, or null when there is none or it is unreadable (then the copy is rebuilt). */
function readSourceRecord(dir: string): z.infer<typeof StoredSource> | null {
  try {
    return StoredSource.parse(JSON.parse(fs.readFileSync(path.join(dir, SOURCE_FILE), 'utf8')));
  } catch {
    return null;
  }
}

/**
 * Opens the external images as a project: another DermFuse project as it is, or an image folder with its CSV
 * imported (the import's own preset detection, typing and checks) into a copy in `scratchDir`, one per folder, CSV
 * and columns. The copy is reused, with the features computed for it, only while the CSV's bytes and the folder's
 * files are unchanged; otherwise it is deleted and imported afresh, so the validation reads exactly the current CSV
 * and folder. The import's problems are kept with the copy and returned either way.
 */
export async function openExternal(
  source: ValidationSource,
  scratchDir: string,
  opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): Promise<OpenedExternal> {
  if (source.kind === 'project') {
    if (!Project.exists(source.dir))
      throw new DermFuseError(
        'NOT_A_PROJECT',
        `--on ${source.dir} is not a DermFuse project (no project.sqlite); for an image folder give --images and --metadata.`,
      );
    return { project: Project.open(source.dir), description: `project ${path.resolve(source.dir)}`, copy: false, problems: [] };
  }
  const { imagesDir, metadataPath } = checkFolder(source);
  const description = folderDescription(imagesDir, metadataPath);
  const key = crypto
    .createHash('sha256')
    .update(`${imagesDir}\n${metadataPath}\n${source.idColumn ?? ''}\n${source.labelColumn ?? ''}\n${source.patientColumn ?? ''}`)
    .digest('hex');
  const dir = path.join(scratchDir, key.slice(0, 16));
  const fingerprint = folderFingerprint(source, imagesDir, metadataPath);
  const record = Project.exists(dir) ? readSourceRecord(dir) : null;
  if (record?.fingerprint === fingerprint) return { project: Project.open(dir), description, copy: true, problems: record.problems };
  // Changed (or never finished): a re-import would merge into rows the CSV no longer has, so start empty.
  fs.rmSync(dir, { recursive: true, force: true });
  const project = Project.create(dir).project;
  try {
    const plan = await planFolder(source, project.dir);
    const summary = await runImport(project, plan, { signal: opts.signal, onProgress: opts.onProgress });
    opts.signal?.throwIfAborted();
    // Written last: a copy whose import failed or was cancelled has no record and is rebuilt next time.
    await writeAtomic(path.join(dir, SOURCE_FILE), Buffer.from(JSON.stringify({ fingerprint, problems: summary.errors })));
    return { project, description, copy: true, problems: summary.errors };
  } catch (err) {
    project.close();
    throw err;
  }
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

/** External images named in a warning at most (the report carries the count and the stored list of ids). */
const NAMED_IN_WARNING = 10;
/** Import problems quoted in the report at most: the first few show what kind they are; the count says how many. */
const PROBLEMS_QUOTED = 5;

/**
 * The external images that are training photos of the run: the same file content (SHA-256) as an image the run
 * trained on. Their figures would be the model's memory, not its generalisation. Indices into `images`.
 */
export function trainingPhotos(images: { sha256: string }[], trainShas: ReadonlySet<string>): number[] {
  return images.flatMap((img, r) => (trainShas.has(img.sha256) ? [r] : []));
}

/** The report's warning about external images that are training photos, saying whether they were left out. */
export function trainingPhotosWarning(ids: string[], total: number, excluded: boolean): string {
  const named = ids.slice(0, NAMED_IN_WARNING).join(', ') + (ids.length > NAMED_IN_WARNING ? `, … (${ids.length - NAMED_IN_WARNING} more)` : '');
  return (
    `${ids.length} of the ${total} external images are training photos of this run (the same file content): ${named}. ` +
    (excluded
      ? 'They are left out of every figure: the model has seen them, so they would flatter it.'
      : 'They were kept in the figures as asked, which flatters them: the model has seen these photos.')
  );
}

/** The import's problems with the external CSV and files as one warning: how many, and the first few with line and column. */
export function importProblemsWarning(problems: ImportProblem[]): string[] {
  if (problems.length === 0) return [];
  const quoted = problems.slice(0, PROBLEMS_QUOTED).map((p) => `${p.source}${p.column ? `, column ${p.column}` : ''}: ${p.message}`);
  return [
    `Reading the external set found ${problems.length} problem${problems.length > 1 ? 's' : ''} (a value that could not be read is stored as missing; ` +
      `a row without a label or image is not validated)${problems.length > PROBLEMS_QUOTED ? `; the first ${PROBLEMS_QUOTED}` : ''}: ${quoted.join('; ')}.`,
  ];
}

/**
 * How the external images group: by patient when any image has a patient of its own; without a patient column
 * every image is its own group (the import's fallback: the patient is the image's id), which is image-level.
 */
export function externalGrouping(images: { external_id: string; grp: string }[]): 'patient' | 'image' {
  return images.some((i) => i.grp !== i.external_id) ? 'patient' : 'image';
}

export const IMAGE_LEVEL_WARNING =
  'The external set has no patient column: its images are treated as independent (image-level bootstrap, and image-level folds for the photo classifier), so the intervals may be too narrow when patients have several photos.';
