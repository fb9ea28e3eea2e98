import type { FieldValue } from '../../shared/types.ts';
import { FieldsRepo, decodeValue } from '../db/repos/fieldsRepo.ts';
import { repoOf } from '../db/open.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import { TeamRepo } from '../db/repos/teamRepo.ts';
import type { Project } from '../project.ts';
import { writeOutputFile } from '../files/write.ts';
import { csvCell } from '../files/csv.ts';

function formatValue(v: FieldValue): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/**
 * Writes current labels and metadata as CSV: `image_id, <label set>, patient_id, lesion_id, <fields…>`.
 * Re-import it with `--preset generic --id-column image_id --label-column <label set> --patient-column
 * patient_id --lesion-column lesion_id`. Returns the number of rows written.
 */
export async function exportCsv(project: Project, out: string): Promise<{ rows: number; columns: string[] }> {
  const db = project.db;
  const fields = repoOf(db, FieldsRepo).list();
  const primary = repoOf(db, LabelsRepo).primarySet();
  const labelColumn = primary?.name ?? 'label';
  const images = repoOf(db, ImagesRepo).exportRows(primary?.id ?? -1);
  const fieldsRepo = repoOf(db, FieldsRepo);
  const columns = ['image_id', labelColumn, 'patient_id', 'lesion_id', ...fields.map((f) => f.name)];
  const lines = [columns.map(csvCell).join(',')];
  for (const img of images) {
    const byField = new Map(fieldsRepo.valuesOf(img.id).map((v) => [v.field_id, v]));
    const cells = [img.external_id, img.label ?? '', img.patient ?? '', img.lesion ?? ''];
    for (const f of fields) {
      const v = byField.get(f.id);
      cells.push(formatValue(v ? decodeValue(f.type, v.num, v.text) : null));
    }
    lines.push(cells.map(csvCell).join(','));
  }
  await writeOutputFile(out, Buffer.from(lines.join('\n') + '\n', 'utf8'));
  return { rows: images.length, columns };
}

/**
 * Writes every annotator's latest label per image, one row each (`image_id, annotator, source, <label set>,
 * labelled_at`): the long format agreement statistics and other tools start from. Cleared labels are empty cells.
 */
export async function exportLabelsLong(project: Project, out: string): Promise<{ rows: number; columns: string[] }> {
  const primary = repoOf(project.db, LabelsRepo).primarySet();
  const rows = primary ? repoOf(project.db, TeamRepo).latestLabels(primary.id) : [];
  const columns = ['image_id', 'annotator', 'source', primary?.name ?? 'label', 'labelled_at'];
  const lines = [columns.map(csvCell).join(','), ...rows.map((r) => [r.external_id, r.author, r.source, r.label ?? '', r.created_at].map(csvCell).join(','))];
  await writeOutputFile(out, Buffer.from(lines.join('\n') + '\n', 'utf8'));
  return { rows: rows.length, columns };
}
