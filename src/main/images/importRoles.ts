import type { ImportRoleMatch } from '../../shared/types.ts';
import { idFromCell } from '../files/imageFiles.ts';
import { classSpelling, type ProjectSchema } from './importMatch.ts';

/** Column names that say what a column is, in the CSVs people bring (their own, DermFuse's export-csv, HAM, PAD). */
const NAMED: { role: ImportRoleMatch['role']; name: RegExp }[] = [
  { role: 'patient', name: /^(patient|patient_?id|pat_?id|subject|subject_?id)$/i },
  { role: 'lesion', name: /^(lesion|lesion_?id)$/i },
  { role: 'label', name: /^(dx|diagnosis|diagnostic|label|class|finding)$/i },
];
/** At least this share of a column's values must be image file names (ids) or a label set's classes. */
const SHARE = 0.5;

/**
 * What a CSV without a known layout most likely holds, for the import screen to propose: the image id (the column
 * whose values name the most photos of the folder), the label (the column whose values are most a label set's
 * classes, else one named so), the patient and the lesion (by name). Each column gets at most one role.
 */
export function proposeRoles(
  schema: ProjectSchema,
  header: readonly string[],
  rows: readonly { cells: string[] }[],
  stems: ReadonlySet<string>,
): ImportRoleMatch[] {
  // Each column's distinct values, read once for both scores below.
  const distinct = header.map((_, i) => [...new Set(rows.map((r) => (r.cells[i] ?? '').trim()).filter((v) => v !== ''))]);
  const out: ImportRoleMatch[] = [];
  const free = (i: number) => !out.some((m) => m.column === header[i]);
  const best = (score: (i: number) => number) =>
    header.map((_, i) => ({ i, s: free(i) ? score(i) : 0 })).reduce((a, b) => (b.s > a.s ? b : a), { i: -1, s: 0 });

  const id = best((i) => {
    const v = distinct[i]!;
    return v.length ? v.filter((x) => stems.has(idFromCell(x))).length / v.length : 0;
  });
  if (id.s >= SHARE)
    out.push({ column: header[id.i]!, role: 'id', by: 'values', reason: `${Math.round(id.s * 100)}% of its values name a photo in the folder` });

  // Per column, the label set most of whose classes its values are (the one its reason names).
  const sets = distinct.map((v) =>
    v.length < 2 || v.length > 200
      ? { name: '', share: 0 }
      : schema.labelSets
          .map((s) => ({ name: s.name, share: v.filter((x) => s.classes.includes(classSpelling(s.classes, x))).length / v.length }))
          .reduce((a, b) => (b.share > a.share ? b : a), { name: '', share: 0 }),
  );
  const label = best((i) => sets[i]!.share);
  if (label.s >= SHARE)
    out.push({ column: header[label.i]!, role: 'label', by: 'values', reason: `its values are classes of the label set “${sets[label.i]!.name}”` });

  for (const { role, name } of NAMED) {
    if (out.some((m) => m.role === role)) continue;
    const i = header.findIndex((c, k) => free(k) && name.test(c.trim()));
    if (i >= 0) out.push({ column: header[i]!, role, by: 'name', reason: 'its name' });
  }
  return out;
}
