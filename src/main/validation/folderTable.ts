import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue } from '../../shared/types.ts';
import type { ValidationSource } from '../../shared/validation.ts';
import { parseCell } from '../files/values.ts';
import { planImport, type ImportPlan } from '../images/importPlan.ts';

export type FolderSource = Extract<ValidationSource, { kind: 'folder' }>;

/** The labels, fields and metadata of an external set, as far as the Validate form needs them. */
export interface ExternalTable {
  labels: string[];
  fields: { name: string; type: string }[];
  /** Metadata of each labelled image, in `fields` order. */
  meta: FieldValue[][];
  description: string;
}

/** The folder and CSV of a folder source, resolved; FILE_NOT_FOUND naming the one that is not there. */
export function checkFolder(source: FolderSource): { imagesDir: string; metadataPath: string } {
  const imagesDir = path.resolve(source.imagesDir);
  const metadataPath = path.resolve(source.metadataPath);
  if (!fs.existsSync(imagesDir) || !fs.statSync(imagesDir).isDirectory()) throw new DermFuseError('FILE_NOT_FOUND', `--images ${imagesDir}: no such folder.`);
  if (!fs.existsSync(metadataPath)) throw new DermFuseError('FILE_NOT_FOUND', `--metadata ${metadataPath}: no such file.`);
  return { imagesDir, metadataPath };
}

export const folderDescription = (imagesDir: string, metadataPath: string) => `folder ${imagesDir} with ${path.basename(metadataPath)}`;

/**
 * The import's plan of a folder source (its preset detection, typing and checks): the CSV read and the folder
 * listed, nothing decoded or written. COLUMN_NOT_FOUND when no label column is found.
 */
export async function planFolder(source: FolderSource, projectDir: string): Promise<ImportPlan> {
  const { imagesDir, metadataPath } = checkFolder(source);
  const plan = await planImport(
    { imagesDir, metadataPath, idColumn: source.idColumn, labelColumn: source.labelColumn, patientColumn: source.patientColumn },
    projectDir,
  );
  if (!plan.mapping?.label && !plan.mapping?.oneHotLabels)
    throw new DermFuseError('COLUMN_NOT_FOUND', `${path.basename(metadataPath)}: no label column found; name it with --label-column.`);
  return plan;
}

/**
 * What importing the folder would label, read from the plan alone (the CSV and the folder's listing): each listed
 * image with a labelled CSV row, with the values the import would store. Photos that turn out unreadable are only
 * found by the import itself, in the validation job.
 */
export async function readFolderTable(source: FolderSource, projectDir: string): Promise<ExternalTable> {
  const plan = await planFolder(source, projectDir);
  const mapping = plan.mapping!;
  const files = new Set(plan.files.map((f) => f.stem));
  const columns = mapping.fields.map((f) => plan.header.indexOf(f.column));
  const labels: string[] = [];
  const meta: FieldValue[][] = [];
  for (const rec of plan.records.values()) {
    if (!files.has(rec.id) || rec.misaligned || rec.label === null) continue;
    labels.push(rec.label);
    meta.push(
      mapping.fields.map((f, j) => {
        const parsed = parseCell(f.type, rec.cells[columns[j]!] ?? '');
        return parsed.ok ? parsed.value : null;
      }),
    );
  }
  if (labels.length === 0) throw new DermFuseError('NOT_FOUND', `${path.basename(plan.metadataName)}: no row names a listed image and a label.`);
  return {
    labels,
    fields: mapping.fields.map((f) => ({ name: f.name, type: f.type })),
    meta,
    description: folderDescription(plan.imagesDir, plan.metadataPath!),
  };
}
