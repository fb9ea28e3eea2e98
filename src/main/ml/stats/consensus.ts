import type { ConsensusRule } from '../../../shared/jobs.ts';
import { argmax, countTable, dawidSkene, type Rating } from './agreement.ts';

/**
 * The consensus label of each image from every annotator's latest label: 'majority' (a tie keeps the image's current
 * label), 'adjudicated' (an adjudicator's decision, else the majority), or 'dawid-skene' (the most probable class
 * under the annotators' estimated confusion matrices). Returns image id -> class name, for images with a label.
 */
export function consensusLabels(
  rule: Exclude<ConsensusRule, 'latest'>,
  latest: readonly { image_id: number; author: string; source: string; label: string | null }[],
  current: ReadonlyMap<number, string>,
  decided: ReadonlyMap<number, string> = new Map(),
): Map<number, string> {
  const given = latest.filter((r) => r.label !== null);
  const classes = [...new Set(given.map((r) => r.label!))].sort();
  const raters = [...new Set(given.map((r) => `${r.source}:${r.author}`))];
  const classOf = new Map(classes.map((c, i) => [c, i]));
  const raterOf = new Map(raters.map((r, i) => [r, i]));
  const ratings: Rating[] = given.map((r) => ({ item: r.image_id, rater: raterOf.get(`${r.source}:${r.author}`)!, label: classOf.get(r.label!)! }));
  const out = new Map<number, string>();
  if (rule === 'majority' || rule === 'adjudicated') {
    for (const [item, votes] of countTable(ratings, classes.length)) {
      const best = argmax(votes);
      const tied = votes.filter((x) => x === votes[best]).length > 1;
      const cur = current.get(item);
      out.set(item, tied && cur !== undefined ? cur : classes[best]!);
    }
    if (rule === 'adjudicated') for (const [item, label] of decided) out.set(item, label);
    return out;
  }
  const ds = dawidSkene(ratings, classes.length);
  const K = classes.length;
  ds.items.forEach((item, i) => out.set(item, classes[argmax(ds.posterior.subarray(i * K, (i + 1) * K))]!));
  return out;
}

/** Image id -> the class of its latest adjudication (decisions that cleared the label are left out). */
export function adjudicatedLabels(decisions: ReadonlyMap<number, { label: string | null }>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [id, d] of decisions) if (d.label !== null) out.set(id, d.label);
  return out;
}
