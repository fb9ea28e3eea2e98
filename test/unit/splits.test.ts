import { describe, expect, it } from 'vitest';
import { groupedStratifiedFolds, type SplitItem } from '../../src/main/ml/stats/splits.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';

/** Random datasets: patients with 1-4 images, skewed classes, some byte-identical images across patients. */
function dataset(seed: number): SplitItem[] {
  const r = rngFrom(seed);
  const items: SplitItem[] = [];
  const nPatients = 20 + Math.floor(r() * 200);
  for (let p = 0; p < nPatients; p++) {
    const n = 1 + Math.floor(r() * 4);
    const label = r() < 0.15 ? 2 : r() < 0.4 ? 1 : 0;
    for (let i = 0; i < n; i++) items.push({ group: `P${p}`, sha256: `h${items.length}`, label });
  }
  // A few duplicates: the same bytes filed under another patient.
  for (let d = 0; d < 5; d++) {
    const a = items[Math.floor(r() * items.length)]!;
    items.push({ group: `P${Math.floor(r() * nPatients)}`, sha256: a.sha256, label: a.label });
  }
  return items;
}

describe('grouped stratified folds', () => {
  it('never puts one patient, or two copies of the same image, in two folds (200 random datasets)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const items = dataset(seed);
      const k = 2 + (seed % 5);
      const folds = groupedStratifiedFolds(items, k, seed);
      const byGroup = new Map<string, number>();
      const bySha = new Map<string, number>();
      items.forEach((it, i) => {
        const f = folds[i]!;
        expect(f).toBeGreaterThanOrEqual(0);
        expect(f).toBeLessThan(k);
        expect(byGroup.get(it.group) ?? f).toBe(f);
        expect(bySha.get(it.sha256) ?? f).toBe(f);
        byGroup.set(it.group, f);
        bySha.set(it.sha256, f);
      });
    }
  });

  it('keeps class proportions close to the whole in every fold', () => {
    const items = dataset(7).concat(dataset(8).map((i) => ({ ...i, group: `B${i.group}`, sha256: `B${i.sha256}` })));
    const folds = groupedStratifiedFolds(items, 5, 3);
    for (let c = 0; c < 3; c++) {
      const overall = items.filter((i) => i.label === c).length / items.length;
      for (let f = 0; f < 5; f++) {
        const inFold = items.filter((_, i) => folds[i] === f);
        const share = inFold.filter((i) => i.label === c).length / inFold.length;
        expect(Math.abs(share - overall)).toBeLessThan(0.08);
      }
    }
  });

  it('is reproducible for a seed', () => {
    const items = dataset(5);
    expect(groupedStratifiedFolds(items, 5, 9)).toEqual(groupedStratifiedFolds(items, 5, 9));
  });
});
