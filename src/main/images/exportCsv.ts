import type { FieldValue } from '../../shared/types.ts';
import { FieldsRepo, decodeValue } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';
import { writeOutputFile } from './thumbnails.ts';
import { csvCell } from './csv.ts';

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
  const fields = new FieldsRepo(db).list();
  const primary = new LabelsRepo(db).primarySet();
  const labelColumn = primary?.name ?? 'label';
  const images = db
    .prepare(
      `SELECT i.id, i.external_id, p.external_id AS patient, le.external_id AS lesion, c.name AS label
       FROM images i
       LEFT JOIN patients p ON p.id = i.patient_id
       LEFT JOIN lesions le ON le.id = i.lesion_id
       LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ?
       LEFT JOIN classes c ON c.id = l.class_id
       ORDER BY i.external_id`,
    )
    .all(primary?.id ?? -1) as { id: number; external_id: string; patient: string | null; lesion: string | null; label: string | null }[];
  const values = db.prepare('SELECT field_id, num, text FROM field_values WHERE image_id = ?');
  const columns = ['image_id', labelColumn, 'patient_id', 'lesion_id', ...fields.map((f) => f.name)];
  const lines = [columns.map(csvCell).join(',')];
  for (const img of images) {
    const byField = new Map((values.all(img.id) as { field_id: number; num: number | null; text: string | null }[]).map((v) => [v.field_id, v]));
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
