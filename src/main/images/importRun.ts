import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue, ImportProblem, ImportSummary } from '../../shared/types.ts';
import { FieldsRepo, type FieldRow } from '../db/repos/fieldsRepo.ts';
import { ImagesRepo, type ImageWrite } from '../db/repos/imagesRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import { runPool, throttleProgress, type ProgressFn } from '../jobs/progress.ts';
import { logger } from '../log.ts';
import type { Project } from '../project.ts';
import { cellKey, type ImportPlan, type MetadataRecord } from './importPlan.ts';
import { classSpelling } from './importMatch.ts';
import type { ScannedFile } from '../files/imageFiles.ts';
import { writeAtomic } from '../files/write.ts';
import { MAX_INPUT_PIXELS } from '../files/imageFiles.ts';
import { processImage, thumbnailRelPath } from './thumbnails.ts';
import { parseCell } from '../files/values.ts';
import { findLabelConflicts } from './conflicts.ts';
import { repoOf, writeTransaction } from '../db/open.ts';
import { ImportsRepo } from '../db/repos/importsRepo.ts';

const log = logger('import');

/** Results are written in transactions of this many images: few enough that a kill loses seconds of work. */
const BATCH_SIZE = 64;
/** Images decoded at once: sharp/libvips threads within each, so twice the cores keeps both busy without piling up memory. */
const DEFAULT_CONCURRENCY = Math.max(2, os.availableParallelism() * 2);
const IMPORT_AUTHOR = 'import';

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  maxPixels?: number;
  concurrency?: number;
  /** Least time between two progress events (the last is always sent). */
  progressIntervalMs?: number;
}

type Outcome = 'added' | 'updated' | 'unchanged' | 'relinked' | 'failed' | 'skipped';

interface FileResult {
  file: ScannedFile;
  outcome: Outcome;
  /** The row to write; null when the stored row is still right (or the file is skipped). */
  write: ImageWrite | null;
  existingId: number | null;
}

/** Runs a planned import: thumbnails in parallel, rows written in small transactions, resumable after a kill. */
export async function runImport(project: Project, plan: ImportPlan, opts: ImportOptions = {}): Promise<ImportSummary> {
  const started = Date.now();
  const db = project.db;
  const images = repoOf(db, ImagesRepo);
  const fields = repoOf(db, FieldsRepo);
  const labels = repoOf(db, LabelsRepo);
  const problems: ImportProblem[] = [...plan.problems];
  const maxPixels = opts.maxPixels ?? MAX_INPUT_PIXELS;
  const progress = throttleProgress(opts.onProgress, opts.progressIntervalMs);

  const imports = repoOf(db, ImportsRepo);
  const importId = imports.start(plan.imagesDir, plan.metadataPath, JSON.stringify(plan.mapping ?? {}));

  // The schema first, in one transaction: fields (the stored type wins), the label set and its classes.
  const columnOf = new Map(plan.header.map((h, i) => [h, i] as const));
  const { fieldRows, labelSetId, classIds } = writeTransaction(db, () => {
    const fieldRows = (plan.mapping?.fields ?? []).map((spec) => {
      const row = fields.ensure(spec);
      if (row.type !== spec.type) {
        problems.push({
          source: plan.metadataName,
          message: `field "${spec.name}" is stored as ${row.type}; values are read as ${row.type}, not ${spec.type}`,
        });
      }
      return { row, column: columnOf.get(spec.column) ?? -1, columnName: spec.column, spelling: spec.spelling };
    });
    const labelSetId = plan.mapping?.labelSet ? labels.ensureSet(plan.mapping.labelSet).id : null;
    const classIds = new Map<string, number>();
    if (labelSetId !== null) {
      const used = new Set<string>();
      for (const f of plan.files) {
        const rec = plan.records.get(f.stem);
        if (rec?.label && !rec.misaligned) used.add(rec.label);
      }
      // A value the set spells otherwise (mel for MEL) is that class, not a new one beside it.
      const classes = labels.classNamesOf(labelSetId);
      for (const name of [...used].sort()) classIds.set(name, labels.ensureClass(labelSetId, classSpelling(classes, name)));
    }
    return { fieldRows, labelSetId, classIds };
  })();

  const counts: Record<Outcome, number> = { added: 0, updated: 0, unchanged: 0, relinked: 0, failed: 0, skipped: 0 };
  let userEditsKept = 0;

  const applyRecord = (imageId: number, rec: MetadataRecord): void => {
    // A row whose cells may sit under the wrong columns writes nothing (the plan reported it).
    if (rec.misaligned) return;
    const linkProblem = images.link(imageId, rec.patient, rec.lesion);
    if (linkProblem) problems.push({ source: `${plan.metadataName} line ${rec.line}`, message: linkProblem });
    for (const { row, column, columnName, spelling } of fieldRows) {
      const parsed = parseCell(row.type, rec.cells[column] ?? '');
      let value: FieldValue = null;
      if (parsed.ok) value = typeof parsed.value === 'string' && spelling?.[parsed.value] !== undefined ? spelling[parsed.value]! : parsed.value;
      else if (!plan.badCells.has(cellKey(rec.line, columnName)))
        problems.push({
          source: `${plan.metadataName} line ${rec.line}`,
          line: rec.line,
          column: columnName,
          value: (rec.cells[column] ?? '').slice(0, 80),
          message: `${parsed.reason}; stored as missing`,
        });
      applyValue(imageId, row, value);
    }
    if (labelSetId !== null) {
      const classId = rec.label === null ? null : classIds.get(rec.label)!;
      const before = labels.lastImportedClass(imageId, labelSetId);
      // Only a label the CSV changed is written again, so a re-import never undoes an annotator's correction.
      if (before === undefined ? classId !== null : before !== classId) {
        labels.annotate(imageId, labelSetId, classId, IMPORT_AUTHOR, 'import');
      }
    }
  };

  const applyValue = (imageId: number, row: FieldRow, value: FieldValue): void => {
    const current = fields.value(imageId, row);
    if (current?.source === 'user') {
      if (current.value !== value) userEditsKept++;
      return;
    }
    const same = (current?.value ?? null) === value;
    if (!same) fields.set(imageId, row, value, IMPORT_AUTHOR, 'import', current !== null);
  };

  const flush = writeTransaction(db, (batch: FileResult[]) => {
    for (const r of batch) {
      counts[r.outcome]++;
      const imageId = r.write ? images.upsert(r.write) : r.existingId;
      if (imageId === null) continue;
      const rec = plan.records.get(r.file.stem);
      if (rec) applyRecord(imageId, rec);
    }
  });

  let batch: FileResult[] = [];
  let done = 0;
  const total = plan.files.length;
  progress({ phase: 'images', done, total });

  await runPool(
    plan.files,
    opts.concurrency ?? DEFAULT_CONCURRENCY,
    async (file) => {
      // Await first: `batch.push(await …)` would push into the array that was current before the await.
      const result = await processFile(project, images, file, maxPixels, problems);
      batch.push(result);
      done++;
      if (batch.length >= BATCH_SIZE) {
        flush(batch);
        batch = [];
      }
      progress({ phase: 'images', done, total });
    },
    opts.signal,
  );
  flush(batch);

  for (const c of findLabelConflicts(db, labelSetId)) problems.push(c);

  const summary: ImportSummary = {
    importId,
    imagesAdded: counts.added,
    imagesUpdated: counts.updated,
    imagesUnchanged: counts.unchanged,
    imagesRelinked: counts.relinked,
    imagesFailed: counts.failed,
    rowsMatched: plan.rowsMatched,
    rowsWithoutImage: plan.rowsWithoutImage,
    imagesWithoutRow: plan.imagesWithoutRow,
    preset: plan.mapping?.preset ?? null,
    label: plan.mapping?.labelSet ?? null,
    classes: labelSetId === null ? {} : labels.classCounts(labelSetId),
    fields: fieldRows.map(({ row }) => ({ name: row.name, type: row.type })),
    userEditsKept,
    errors: problems,
    seconds: (Date.now() - started) / 1000,
  };
  const cancelled = opts.signal?.aborted ?? false;
  writeTransaction(db, () => imports.finish(importId, cancelled ? 'cancelled' : 'done', JSON.stringify({ ...summary, errors: undefined }), problems))();
  if (cancelled) {
    throw new DermFuseError('CANCELLED', `Import cancelled after ${done} of ${total} images; what was done is kept. Import again to complete it.`);
  }
  log.info(`import ${importId}: ${done} images in ${summary.seconds.toFixed(1)} s`);
  return summary;
}

async function processFile(project: Project, images: ImagesRepo, file: ScannedFile, maxPixels: number, problems: ImportProblem[]): Promise<FileResult> {
  const existing = images.byExternalId(file.stem);
  if (existing && existing.path !== file.path && fs.existsSync(existing.path)) {
    problems.push({ source: file.path, message: `image id "${file.stem}" is already in the project from ${existing.path}; this file is skipped` });
    return { file, outcome: 'skipped', write: null, existingId: null };
  }
  const unchangedOnDisk =
    existing?.status === 'ok' &&
    existing.path === file.path &&
    existing.bytes === file.bytes &&
    existing.mtime_ms === file.mtimeMs &&
    existing.thumb !== null &&
    fs.existsSync(path.join(project.dir, existing.thumb));
  // Same path, size and modification time: the bytes are taken as unchanged without re-hashing (as git does).
  if (existing && unchangedOnDisk) return { file, outcome: 'unchanged', write: null, existingId: existing.id };

  const base = { external_id: file.stem, path: file.path, bytes: file.bytes, mtime_ms: file.mtimeMs };
  try {
    const bytes = await fs.promises.readFile(file.path);
    const img = await processImage(bytes, maxPixels);
    const thumb = thumbnailRelPath(img.sha256);
    const thumbAbs = path.join(project.dir, thumb);
    if (!fs.existsSync(thumbAbs)) await writeAtomic(thumbAbs, img.thumbnail);
    const write: ImageWrite = { ...base, sha256: img.sha256, width: img.width, height: img.height, format: img.format, thumb, status: 'ok', error: null };
    let outcome: Outcome = 'added';
    if (existing) {
      if (existing.sha256 !== img.sha256) outcome = 'updated';
      else outcome = existing.path !== file.path ? 'relinked' : 'unchanged';
    }
    return { file, outcome, write, existingId: existing?.id ?? null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    problems.push({ source: file.path, message: `cannot read image: ${message}` });
    const write: ImageWrite = { ...base, sha256: null, width: null, height: null, format: null, thumb: null, status: 'error', error: message };
    return { file, outcome: 'failed', write, existingId: existing?.id ?? null };
  }
}
