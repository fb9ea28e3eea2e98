import { connectedGroups, groupedStratifiedFolds } from './splits.ts';

/** What merging near-duplicates did to a run's groups. */
export interface DuplicateMerges {
  /** Which pairs were used: confirmed ones only, or also the scan's unreviewed ones. */
  include: 'confirmed' | 'unreviewed' | 'none';
  /** Near-duplicate pairs among the run's images. */
  pairs: number;
  /** Pairs whose images were in different groups (patients, lesions), so the merge joined two groups. */
  merges: number;
  /** Pairs that the folds would have split had they not been merged. */
  crossedFolds: number;
}

/**
 * Joins the groups of images that are near-duplicates (so cross-validation and the bootstrap keep them together)
 * and counts the pairs that unmerged folds would have split. Groups are renamed only where a merge happened.
 */
export function mergeDuplicateGroups(
  imageIds: readonly number[],
  groups: readonly string[],
  shas: readonly string[],
  labels: ArrayLike<number>,
  edges: readonly { a: number; b: number }[],
  folds: { k: number; seed: number },
  include: DuplicateMerges['include'],
): { groups: string[]; merges: DuplicateMerges } {
  const row = new Map(imageIds.map((id, i) => [id, i]));
  const inRun = edges.filter((e) => row.has(e.a) && row.has(e.b)).map((e) => ({ a: row.get(e.a)!, b: row.get(e.b)! }));
  const across = inRun.filter((e) => groups[e.a] !== groups[e.b]);
  let crossedFolds = 0;
  if (across.length > 0 && folds.k <= new Set(groups).size) {
    const fold = groupedStratifiedFolds(
      imageIds.map((_, i) => ({ group: groups[i]!, sha256: shas[i]!, label: labels[i]! })),
      folds.k,
      folds.seed,
    );
    crossedFolds = inRun.filter((e) => fold[e.a] !== fold[e.b]).length;
  }
  // Groups, not images, are joined: every image of a patient goes along with the patient's copy.
  const names = [...new Set(groups)];
  const nameIndex = new Map(names.map((g, i) => [g, i]));
  const joined = connectedGroups(
    names.length,
    across.map((e) => ({ a: nameIndex.get(groups[e.a]!)!, b: nameIndex.get(groups[e.b]!)! })),
  );
  const renamed = new Map<string, string>();
  for (const members of joined) {
    const name = `dup:${members.map((i) => names[i]).join('|')}`;
    for (const i of members) renamed.set(names[i]!, name);
  }
  return {
    groups: groups.map((g) => renamed.get(g) ?? g),
    merges: { include, pairs: inRun.length, merges: across.length, crossedFolds },
  };
}
