import type { ImportProblem } from '../../shared/types.ts';
import { repoOf, type Db } from '../db/open.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';

/** Byte-identical images (same SHA-256) whose current labels differ: one of the labels is wrong. */
export function findLabelConflicts(db: Db, labelSetId: number | null): ImportProblem[] {
  if (labelSetId === null) return [];
  const rows = repoOf(db, LabelsRepo).conflictingCopies(labelSetId);
  return rows.map((r) => ({
    source: `sha256 ${r.sha256.slice(0, 12)}…`,
    message: `byte-identical images carry different labels (${r.pairs}); check which label is right`,
  }));
}
