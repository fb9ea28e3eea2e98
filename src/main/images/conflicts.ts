import type { ImportProblem } from '../../shared/types.ts';
import type { Db } from '../db/open.ts';

/** Byte-identical images (same SHA-256) whose current labels differ: one of the labels is wrong. */
export function findLabelConflicts(db: Db, labelSetId: number | null): ImportProblem[] {
  if (labelSetId === null) return [];
  const rows = db
    .prepare(
      `SELECT i.sha256, group_concat(i.external_id || '=' || c.name, ', ') AS pairs
       FROM images i JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ?
       JOIN classes c ON c.id = l.class_id
       WHERE i.status = 'ok'
       GROUP BY i.sha256 HAVING COUNT(DISTINCT l.class_id) > 1`,
    )
    .all(labelSetId) as { sha256: string; pairs: string }[];
  return rows.map((r) => ({
    source: `sha256 ${r.sha256.slice(0, 12)}…`,
    message: `byte-identical images carry different labels (${r.pairs}); check which label is right`,
  }));
}
