import { rngFrom } from './random.ts';

export interface SplitItem {
  /** Group the item belongs to: patient, else lesion, else the image itself. */
  group: string;
  /** Content hash: byte-identical images always land in the same fold. */
  sha256: string;
  /** Class index (stratification). */
  label: number;
}

/** Union-find over groups: two groups sharing a byte-identical image become one. */
function mergeGroups(items: readonly SplitItem[]): string[] {
  const parent = new Map<string, string>();
  const find = (a: string): string => {
    let r = a;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let c = a;
    while (parent.get(c) !== r) {
      const next = parent.get(c)!;
      parent.set(c, r);
      c = next;
    }
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  for (const it of items) {
    const g = `g:${it.group}`;
    const s = `s:${it.sha256}`;
    if (!parent.has(g)) parent.set(g, g);
    if (!parent.has(s)) parent.set(s, s);
    union(g, s);
  }
  return items.map((it) => find(`g:${it.group}`));
}

/**
 * Stratified k-fold that never splits a group: groups (patients, merged where they share a byte-identical image)
 * are dealt to folds largest first, each to the fold where it best evens out the class proportions and sizes
 * (the StratifiedGroupKFold heuristic). Returns the fold of each item. Ties are broken by a seeded shuffle.
 */
export function groupedStratifiedFolds(items: readonly SplitItem[], k: number, seed = 1): number[] {
  const merged = mergeGroups(items);
  const nClasses = Math.max(0, ...items.map((i) => i.label)) + 1;
  const groups = new Map<string, { members: number[]; counts: number[] }>();
  items.forEach((it, i) => {
    let g = groups.get(merged[i]!);
    if (!g) groups.set(merged[i]!, (g = { members: [], counts: new Array<number>(nClasses).fill(0) }));
    g.members.push(i);
    g.counts[it.label]!++;
  });
  const rand = rngFrom(seed);
  const list = [...groups.values()].map((g) => ({ ...g, tie: rand() }));
  // Largest groups first, and within a size those of rarer classes first (they are the hardest to place evenly).
  const classTotals = new Array<number>(nClasses).fill(0);
  for (const it of items) classTotals[it.label]!++;
  const rarity = (g: { counts: number[] }) => g.counts.reduce((s, c, j) => s + c / Math.max(classTotals[j]!, 1), 0);
  list.sort((a, b) => b.members.length - a.members.length || rarity(b) - rarity(a) || a.tie - b.tie);
  const foldCounts = Array.from({ length: k }, () => new Array<number>(nClasses).fill(0));
  const foldSizes = new Array<number>(k).fill(0);
  const fold = new Array<number>(items.length).fill(0);
  for (const g of list) {
    let best = 0;
    let bestCost = Infinity;
    for (let f = 0; f < k; f++) {
      let cost = 0;
      for (let c = 0; c < nClasses; c++) {
        // Spread of this class's share across folds if the group went to fold f.
        const shares = foldCounts.map((fc, ff) => (fc[c]! + (ff === f ? g.counts[c]! : 0)) / Math.max(classTotals[c]!, 1));
        const mean = shares.reduce((s, x) => s + x, 0) / k;
        cost += shares.reduce((s, x) => s + (x - mean) ** 2, 0);
      }
      cost += 1e-6 * (foldSizes[f]! + g.members.length);
      if (cost < bestCost - 1e-12) {
        bestCost = cost;
        best = f;
      }
    }
    for (const m of g.members) fold[m] = best;
    for (let c = 0; c < nClasses; c++) foldCounts[best]![c]! += g.counts[c]!;
    foldSizes[best]! += g.members.length;
  }
  return fold;
}

/** Union-find: the connected groups of items joined by edges, each group's members ascending, groups by first member. */
export function connectedGroups(n: number, edges: readonly { a: number; b: number }[]): number[][] {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const e of edges) {
    const ra = find(e.a);
    const rb = find(e.b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(i);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}
