import type { LeakageWarning } from '../../../shared/jobs.ts';
import type { FieldType, FieldValue } from '../../../shared/types.ts';

export type { LeakageWarning } from '../../../shared/jobs.ts';

/** Field names that are recorded after (or because of) the diagnosis: biopsy, confirmation type, derived targets. */
const POST_DIAGNOSIS = /biops|dx_type|diagnosis_confirm|confirm_type|histopath|benign_malignant|^target$|^diagnos/i;
/** Cramér's V above this between missingness and the label: the model could read the label from the gap alone. */
const MISSINGNESS_V = 0.25;
/** Ignore missingness on fields almost always filled or almost always empty. */
const MIN_MISSING_SHARE = 0.03;

/** Cramér's V of a 2 × C table (missing or not, by class). */
function cramersV(missing: boolean[], labels: ArrayLike<number>, classes: number): number {
  const n = missing.length;
  const table = [new Array<number>(classes).fill(0), new Array<number>(classes).fill(0)];
  missing.forEach((m, i) => table[m ? 1 : 0]![labels[i]!]!++);
  const rows = table.map((r) => r.reduce((s, x) => s + x, 0));
  const cols = Array.from({ length: classes }, (_, c) => table[0]![c]! + table[1]![c]!);
  let chi2 = 0;
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < classes; c++) {
      const e = (rows[r]! * cols[c]!) / n;
      if (e > 0) chi2 += (table[r]![c]! - e) ** 2 / e;
    }
  }
  const k = Math.min(2, cols.filter((x) => x > 0).length) - 1;
  return k > 0 ? Math.sqrt(chi2 / (n * k)) : 0;
}

/**
 * Flags fields that would let a model learn the label without learning anything clinical: fields recorded after
 * the diagnosis, and fields whose *missingness* follows the label (PAD-UFES-20 leaves sex and Fitzpatrick type
 * empty almost only for lesions that were not biopsied).
 */
export function detectLeakage(
  fields: readonly { name: string; type: FieldType }[],
  values: readonly (readonly FieldValue[])[],
  labels: ArrayLike<number>,
  classes: number,
): LeakageWarning[] {
  const out: LeakageWarning[] = [];
  fields.forEach((f, j) => {
    if (POST_DIAGNOSIS.test(f.name)) {
      out.push({
        field: f.name,
        kind: 'post-diagnosis',
        message: `"${f.name}" is recorded after or because of the diagnosis; a model using it would not be usable before diagnosis`,
        strength: 1,
      });
      return;
    }
    const missing = values.map((r) => r[j] === null || r[j] === undefined);
    const share = missing.filter(Boolean).length / Math.max(missing.length, 1);
    if (share < MIN_MISSING_SHARE || share > 1 - MIN_MISSING_SHARE) return;
    const v = cramersV(missing, labels, classes);
    if (v >= MISSINGNESS_V) {
      out.push({
        field: f.name,
        kind: 'missingness',
        message: `whether "${f.name}" is missing (${(share * 100).toFixed(0)}% of images) follows the label (Cramér's V ${v.toFixed(2)}): a model can learn the label from the gap alone`,
        strength: v,
      });
    }
  });
  return out;
}
