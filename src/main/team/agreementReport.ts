import { DermFuseError } from '../../shared/errors.ts';
import type { AgreementReport, Interval } from '../../shared/team.ts';
import { repoOf } from '../db/open.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import { TeamRepo } from '../db/repos/teamRepo.ts';
import { taskImages } from './tasks.ts';
import { rngFrom } from '../ml/stats/random.ts';
import type { Project } from '../project.ts';
import { argmax, cohenKappa, dawidSkene, fleissKappa, krippendorffAlpha, type Rating } from '../ml/stats/agreement.ts';
import { percentileInterval } from '../ml/fusion/metrics.ts';

/** Bootstrap resamples of images for the 95% intervals. */
const RESAMPLES = 1000;
export const IMPORTED = 'imported';

/** A statistic over images, with a percentile bootstrap interval from resampling the images. */
function withInterval(items: number[][], stat: (rows: number[][]) => number, seed: number): { value: number; ci: Interval } {
  const rand = rngFrom(seed);
  const values: number[] = [];
  for (let b = 0; b < RESAMPLES; b++) values.push(stat(Array.from(items, () => items[Math.floor(rand() * items.length)]!)));
  return { value: stat(items), ci: percentileInterval(values) };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const roundCi = (c: Interval): Interval => [round(c[0]), round(c[1])];

/**
 * Agreement between the annotators of a label set, from each one's latest label per image (the annotation history
 * keeps everyone's): percent agreement, Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha over all,
 * per-class agreement, and each annotator against the Dawid-Skene consensus; bootstrap 95% intervals over images.
 */
export function agreementReport(project: Project, labelSet?: string, taskId?: number): AgreementReport {
  const labels = repoOf(project.db, LabelsRepo);
  const set = labelSet ? labels.setNamed(labelSet) : labels.primarySet();
  if (!set) throw new DermFuseError('NOT_FOUND', labelSet ? `--label ${labelSet}: no such label set.` : 'The project has no label set yet.');
  const within = taskId === undefined ? null : taskImages(project, taskId);
  const rows = repoOf(project.db, TeamRepo)
    .latestLabels(set.id)
    .filter((r) => r.label !== null && (within === null || within.has(r.image_id)));
  const classes = [...new Set(rows.map((r) => r.label!))].sort();
  const names = [...new Set(rows.map((r) => (r.source === 'import' ? IMPORTED : r.author)))].sort();
  const raterOf = new Map(names.map((n, i) => [n, i]));
  const classOf = new Map(classes.map((c, i) => [c, i]));
  const ratings: Rating[] = rows.map((r) => ({
    item: r.image_id,
    rater: raterOf.get(r.source === 'import' ? IMPORTED : r.author)!,
    label: classOf.get(r.label!)!,
  }));
  // Per image: its labels by annotator (-1: not labelled by them); only images two annotators or more labelled.
  const byImage = new Map<number, number[]>();
  for (const r of ratings) {
    let row = byImage.get(r.item);
    if (!row) byImage.set(r.item, (row = new Array<number>(names.length).fill(-1)));
    row[r.rater] = r.label;
  }
  const shared = [...byImage.values()].filter((row) => row.filter((l) => l >= 0).length >= 2);
  const K = classes.length;
  const asRatings = (rs: number[][]): Rating[] => rs.flatMap((row, item) => row.flatMap((label, rater) => (label >= 0 ? [{ item, rater, label }] : [])));
  const pairs: AgreementReport['pairs'] = [];
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      const both = shared.filter((row) => row[a]! >= 0 && row[b]! >= 0);
      if (both.length === 0) continue;
      const k = (rs: number[][]) =>
        cohenKappa(
          rs.map((r) => r[a]!),
          rs.map((r) => r[b]!),
          K,
        ).kappa;
      const s = withInterval(both, k, 17 + a * 31 + b);
      const agreement = both.filter((r) => r[a] === r[b]).length / both.length;
      pairs.push({ a: names[a]!, b: names[b]!, images: both.length, agreement: round(agreement), kappa: round(s.value), ci: roundCi(s.ci) });
    }
  }
  let agreeing = 0;
  let pairCount = 0;
  const saidBoth = new Float64Array(K);
  const saidEither = new Float64Array(K);
  for (const row of shared) {
    const given = row.filter((l) => l >= 0);
    for (let i = 0; i < given.length; i++) {
      for (let j = i + 1; j < given.length; j++) {
        pairCount++;
        if (given[i] === given[j]) {
          agreeing++;
          saidBoth[given[i]!]! += 2;
        }
        saidEither[given[i]!]!++;
        saidEither[given[j]!]!++;
      }
    }
  }
  const stat = (f: (r: Rating[], k: number) => number) => (shared.length ? withInterval(shared, (rs) => f(asRatings(rs), K), 5) : null);
  const fleiss = stat(fleissKappa);
  const alpha = stat(krippendorffAlpha);
  const ds = shared.length ? dawidSkene(asRatings(shared), K) : null;
  const consensus = ds ? ds.items.map((_, i) => argmax(ds.posterior.subarray(i * K, (i + 1) * K))) : [];
  const vsConsensus = names.map((name, r) => {
    const mine = shared.map((row, i) => [row[r]!, consensus[i]!] as const).filter(([l]) => l >= 0);
    const sensitivity = classes.map((_, c) => {
      const truthC = mine.filter(([, t]) => t === c);
      return truthC.length ? round(truthC.filter(([l]) => l === c).length / truthC.length) : null;
    });
    const di = ds ? ds.raters.indexOf(r) : -1;
    return {
      name,
      images: mine.length,
      accuracy: mine.length ? round(mine.filter(([l, t]) => l === t).length / mine.length) : NaN,
      estimatedAccuracy: di >= 0 ? round(ds!.accuracy[di]!) : NaN,
      sensitivity,
      confusion: classes.map((_, t) => classes.map((__, l) => mine.filter(([x, y]) => y === t && x === l).length)),
    };
  });
  return {
    labelSet: set.name,
    classes,
    annotators: names.map((name, r) => ({ name, images: ratings.filter((x) => x.rater === r).length })),
    images: shared.length,
    percentAgreement: pairCount ? round(agreeing / pairCount) : null,
    fleissKappa: fleiss && { value: round(fleiss.value), ci: roundCi(fleiss.ci) },
    krippendorffAlpha: alpha && { value: round(alpha.value), ci: roundCi(alpha.ci) },
    pairs,
    perClass: classes.map((className, c) => ({ className, agreement: saidEither[c] ? round(saidBoth[c]! / saidEither[c]!) : null })),
    vsConsensus,
    resamples: RESAMPLES,
  };
}
