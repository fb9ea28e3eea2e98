import type { FieldValue } from '../../../shared/types.ts';
import { auc } from '../fusion/metrics.ts';

/** Subgroups smaller than this, or missing a class, get no AUC (too noisy to read). */
const MIN_SUBGROUP = 20;
const AGE_BANDS: [number, number, string][] = [
  [0, 30, '<30'],
  [30, 50, '30-49'],
  [50, 70, '50-69'],
  [70, 200, '70+'],
];

export interface SubgroupRow {
  field: string;
  group: string;
  n: number;
  auc: number | null;
}

/**
 * AUC of out-of-fold predictions per subgroup: every category field (sex, site, Fitzpatrick type…) value, and
 * age bands for number fields named like age, so a model that fails one group is seen.
 */
export function subgroupMetrics(fields: { name: string; type: string }[], meta: FieldValue[][], probs: Float64Array, labels: Int32Array, classes: number): SubgroupRow[] {
  const out: SubgroupRow[] = [];
  fields.forEach((f, j) => {
    const keyOf = (v: FieldValue): string | null => {
      if (v === null) return null;
      if ((f.type === 'number' || f.type === 'ordinal') && /age/i.test(f.name)) return AGE_BANDS.find(([lo, hi]) => Number(v) >= lo && Number(v) < hi)?.[2] ?? null;
      if (f.type === 'category' || f.type === 'ordinal' || f.type === 'boolean') return String(v);
      return null;
    };
    const groups = new Map<string, number[]>();
    meta.forEach((row, i) => {
      const k = keyOf(row[j] ?? null) ?? 'missing';
      groups.set(k, [...(groups.get(k) ?? []), i]);
    });
    if (groups.size < 2 || groups.size > 30) return;
    for (const [group, idx] of [...groups].sort()) {
      const sub = { probs: new Float64Array(idx.length * classes), classes, labels: Int32Array.from(idx.map((i) => labels[i]!)) };
      idx.forEach((i, k) => sub.probs.set(probs.subarray(i * classes, (i + 1) * classes), k * classes));
      const a = idx.length >= MIN_SUBGROUP ? auc(sub) : NaN;
      out.push({ field: f.name, group, n: idx.length, auc: Number.isNaN(a) ? null : a });
    }
  });
  return out;
}
