import type { ConsensusRule } from '../../shared/jobs.ts';
import { dawidSkene, majorityVote, type Rating } from './agreement.ts';

/**
 * The consensus label of each image from every annotator's latest label: 'majority' (a tie keeps the image's current
 * label), or 'dawid-skene' (the most probable class under the annotators' estimated confusion matrices). Returns
 * image id -> class name, for images with at least one label.
 */
export function consensusLabels(
  rule: Exclude<ConsensusRule, 'latest'>,
  latest: readonly { image_id: number; author: string; source: string; label: string | null }[],
  current: ReadonlyMap<number, string>,
): Map<number, string> {
  const given = latest.filter((r) => r.label !== null);
  const classes = [...new Set(given.map((r) => r.label!))].sort();
  const raters = [...new Set(given.map((r) => `${r.source}:${r.author}`))];
  const classOf = new Map(classes.map((c, i) => [c, i]));
  const raterOf = new Map(raters.map((r, i) => [r, i]));
  const ratings: Rating[] = given.map((r) => ({ item: r.image_id, rater: raterOf.get(`${r.source}:${r.author}`)!, label: classOf.get(r.label!)! }));
  const items = [...new Set(ratings.map((r) => r.item))].sort((a, b) => a - b);
  const out = new Map<number, string>();
  if (rule === 'majority') {
    const votes = new Map<number, number[]>();
    for (const r of ratings) {
      let v = votes.get(r.item);
      if (!v) votes.set(r.item, (v = new Array<number>(classes.length).fill(0)));
      v[r.label]!++;
    }
    const mv = majorityVote(ratings, classes.length, items);
    items.forEach((item, i) => {
      const v = votes.get(item)!;
      const top = Math.max(...v);
      const tied = v.filter((x) => x === top).length > 1;
      const cur = current.get(item);
      out.set(item, tied && cur !== undefined ? cur : classes[mv[i]!]!);
    });
    return out;
  }
  const ds = dawidSkene(ratings, classes.length);
  const K = classes.length;
  ds.items.forEach((item, i) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (ds.posterior[i * K + k]! > ds.posterior[i * K + best]!) best = k;
    out.set(item, classes[best]!);
  });
  return out;
}
