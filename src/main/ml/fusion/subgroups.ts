import { MODES, type Mode, type SubgroupGap, type SubgroupRow, type SubgroupTable } from '../../../shared/results.ts';
import type { FieldValue } from '../../../shared/types.ts';
import type { Project } from '../../project.ts';
import { bootstrapUnits, metadataOf, predictedClasses, type RunData } from './runData.ts';
import { groupAucs, scoreOrders, type ScoreOrder } from './groupAuc.ts';
import { calibrationError, groupBootstrapSamples, percentileInterval, subset, type Predictions } from './metrics.ts';

/** Subgroups smaller than this, or with fewer than MIN_PER_CLASS of a class, get no figures: an AUC of a dozen images is noise. */
export const MIN_SUBGROUP = 20;
/** An AUC over one or two positives says nothing (1.000 [1.000, 1.000] on one lucky case). */
export const MIN_PER_CLASS = 5;
/** A field with more groups than this (free-text-like categories) is not sliced. */
const MAX_GROUPS = 30;
/** Patient resamples for every subgroup interval and gap: one set, shared by all fields and modes. */
export const SUBGROUP_RESAMPLES = 400;
const AGE_BANDS: [number, number, string][] = [
  [0, 30, '<30'],
  [30, 50, '30-49'],
  [50, 70, '50-69'],
  [70, 200, '70+'],
];
/** Fields a preset or a name marks as skin type: shown first, the first question a reviewer asks. */
const SKIN_TYPE = /fitz|fitsp|phototype|skin.?type/i;

export interface SubgroupInput {
  fields: { name: string; type: string }[];
  /** Metadata of each image, in `fields` order. */
  rows: FieldValue[][];
  labels: Int32Array;
  classes: number;
  probs: Record<Mode, Float64Array>;
  /** The class each mode decided for each image (the run's own rule). */
  decided: Record<Mode, Int32Array>;
  /** Bootstrap unit of each image (its patient, else lesion, else itself). */
  groups: string[];
  /** Fields the model used; the others are still sliced, and named as such. */
  fieldsUsed: string[];
  seed: number;
  resamples?: number;
}

/** The group an image falls in for a field: its value, an age band, or "missing"; undefined: the field is not sliced. */
function grouper(f: { name: string; type: string }): ((v: FieldValue) => string) | undefined {
  if ((f.type === 'number' || f.type === 'ordinal') && /(^|_)age/i.test(f.name)) {
    return (v) => (v === null ? 'missing' : (AGE_BANDS.find(([lo, hi]) => Number(v) >= lo && Number(v) < hi)?.[2] ?? 'missing'));
  }
  if (f.type === 'category' || f.type === 'ordinal' || f.type === 'boolean') return (v) => (v === null ? 'missing' : String(v));
  return undefined;
}

/** Age bands in age order, numbers by value, other values alphabetically; "missing" last. */
function naturalOrder(a: string, b: string): number {
  if (a === 'missing' || b === 'missing') return a === b ? 0 : a === 'missing' ? 1 : -1;
  const band = (g: string) => AGE_BANDS.findIndex(([, , name]) => name === g);
  if (band(a) >= 0 && band(b) >= 0) return band(a) - band(b);
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) ? x - y : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Performance per subgroup of every sliceable field, whether the model used it or not: per mode, AUC with a
 * patient-bootstrap interval, sensitivity and specificity at the run's decision rule (binary) and calibration error.
 * Per field and mode, the gap between its best and worst subgroup with a bootstrap interval over the same patient
 * resamples, so the two subgroups' figures move together as they would in another sample of patients.
 */
export function subgroupTable(input: SubgroupInput): SubgroupTable {
  const C = input.classes;
  const B = input.resamples ?? SUBGROUP_RESAMPLES;
  const n = input.labels.length;
  // Each resample as a count per image: how many times its patient was drawn.
  const weights = groupBootstrapSamples(input.groups, B, input.seed).map((s) => {
    const w = new Int32Array(n);
    for (const i of s) w[i]!++;
    return w;
  });
  const ones = new Int32Array(n).fill(1);
  const orders = Object.fromEntries(MODES.map((m) => [m, scoreOrders(input.probs[m], C, n)])) as Record<Mode, ScoreOrder[]>;
  const preds = Object.fromEntries(MODES.map((m) => [m, { probs: input.probs[m], classes: C, labels: input.labels }])) as Record<Mode, Predictions>;
  const order = input.fields.map((f, j) => ({ f, j })).sort((a, b) => Number(SKIN_TYPE.test(b.f.name)) - Number(SKIN_TYPE.test(a.f.name)));
  const rows: SubgroupRow[] = [];
  const gaps: SubgroupGap[] = [];
  const sliced: string[] = [];

  for (const { f, j } of order) {
    const key = grouper(f);
    if (!key) continue;
    const members = new Map<string, number[]>();
    input.rows.forEach((row, i) => {
      const g = key(row[j] ?? null);
      members.set(g, [...(members.get(g) ?? []), i]);
    });
    if (members.size < 2 || members.size > MAX_GROUPS) continue;
    sliced.push(f.name);
    const groupOf = new Int32Array(input.labels.length);
    const names = [...members.keys()].sort(naturalOrder);
    names.forEach((g, k) => members.get(g)!.forEach((i) => (groupOf[i] = k)));
    // AUC of every subgroup in every resample (the resample as counts per image), in one pass per mode and class.
    const big = names.map((g) => members.get(g)!.length >= MIN_SUBGROUP);
    const bootAuc = MODES.map(() => names.map(() => [] as number[]));
    for (const w of weights) {
      const sizes = new Float64Array(names.length);
      for (let i = 0; i < w.length; i++) sizes[groupOf[i]!]! += w[i]!;
      MODES.forEach((m, mi) => {
        const a = groupAucs(orders[m], input.labels, groupOf, w, names.length, C, MIN_PER_CLASS);
        names.forEach((_, k) => {
          if (big[k]) bootAuc[mi]![k]!.push(sizes[k]! >= MIN_SUBGROUP ? a[k]! : NaN);
        });
      });
    }
    // The point AUCs, by the same pass and the same per-class rule (NaN: too few of a class) as the resamples.
    const pointAuc = Object.fromEntries(MODES.map((m) => [m, groupAucs(orders[m], input.labels, groupOf, ones, names.length, C, MIN_PER_CLASS)])) as Record<
      Mode,
      Float64Array
    >;
    const fieldRows = names.map((g, k): SubgroupRow => {
      const idx = Int32Array.from(members.get(g)!);
      const labels = Int32Array.from(idx, (i) => input.labels[i]!);
      const tooFew = idx.length < MIN_SUBGROUP || Number.isNaN(pointAuc.fused[k]!);
      const positives = C === 2 ? labels.reduce((a, l) => a + (l === 1 ? 1 : 0), 0) : null;
      const modes = Object.fromEntries(
        MODES.map((m, mi) => {
          if (tooFew) return [m, { auc: null, sensitivity: null, specificity: null, calibrationError: null }];
          const sub = subset(preds[m], idx);
          const dec = Int32Array.from(idx, (i) => input.decided[m][i]!);
          const pos = positives ?? 0;
          const tp = labels.reduce((a, l, q) => a + (l === 1 && dec[q] === 1 ? 1 : 0), 0);
          const tn = labels.reduce((a, l, q) => a + (l === 0 && dec[q] === 0 ? 1 : 0), 0);
          return [
            m,
            {
              auc: { value: pointAuc[m][k]!, ci: percentileInterval(bootAuc[mi]![k]!) },
              sensitivity: C === 2 ? tp / pos : null,
              specificity: C === 2 ? tn / (labels.length - pos) : null,
              calibrationError: calibrationError(sub).ece,
            },
          ];
        }),
      ) as SubgroupRow['modes'];
      return { field: f.name, group: g, n: idx.length, positives, tooFew, modes };
    });
    rows.push(...fieldRows);
    MODES.forEach((m, mi) => {
      const rated = fieldRows.map((r, k) => ({ k, a: r.modes[m].auc?.value })).filter((x): x is { k: number; a: number } => x.a !== undefined);
      if (rated.length < 2) return;
      const best = rated.reduce((x, y) => (y.a > x.a ? y : x));
      const worst = rated.reduce((x, y) => (y.a < x.a ? y : x));
      const diffs = bootAuc[mi]![best.k]!.map((a, r) => a - bootAuc[mi]![worst.k]![r]!);
      // The pair was picked as the extremes of the field: a plain 95% interval would call chance gaps real about
      // twice as often as it should. Bonferroni over the field's pairs keeps the error at 5% for the field.
      const pairs = (rated.length * (rated.length - 1)) / 2;
      const ci = percentileInterval(diffs, 0.05 / pairs);
      gaps.push({ field: f.name, mode: m, best: names[best.k]!, worst: names[worst.k]!, gap: { value: best.a - worst.a, ci }, significant: ci[0] > 0 });
    });
  }
  return {
    rows,
    gaps,
    summary: summarise(rows, gaps),
    notInModel: sliced.filter((f) => !input.fieldsUsed.includes(f)),
    minN: MIN_SUBGROUP,
    minPerClass: MIN_PER_CLASS,
  };
}

const f3 = (x: number) => x.toFixed(3);

/** The one line the summary shows: the subgroup with the lowest fused AUC, against the best of its field. */
function summarise(rows: SubgroupRow[], gaps: SubgroupGap[]): string | null {
  const rated = rows.filter((r) => r.modes.fused.auc !== null);
  if (rated.length === 0) return null;
  const worst = rated.reduce((x, y) => (y.modes.fused.auc!.value < x.modes.fused.auc!.value ? y : x));
  const gap = gaps.find((g) => g.mode === 'fused' && g.field === worst.field && g.worst === worst.group);
  if (!gap) return null;
  const best = rows.find((r) => r.field === worst.field && r.group === gap.best)!;
  const verdict = gap.significant ? 'a gap chance alone would rarely give' : 'the interval includes 0, so it may be chance';
  return `Worst subgroup (fused): ${worst.field} = ${worst.group}, AUC ${f3(worst.modes.fused.auc!.value)} against ${f3(best.modes.fused.auc!.value)} for ${worst.field} = ${best.group}; gap ${f3(gap.gap.value)} (95% CI ${f3(gap.gap.ci[0])} to ${f3(gap.gap.ci[1])}): ${verdict}.`;
}

/** The subgroup table of a finished run: its out-of-fold predictions sliced by every field's current values. */
export function runSubgroups(project: Project, d: RunData): SubgroupTable {
  const meta = metadataOf(project, d.imageIds);
  return subgroupTable({
    fields: meta.fields,
    rows: meta.rows,
    labels: d.labels,
    classes: d.classes.length,
    probs: d.probs,
    decided: Object.fromEntries(MODES.map((m) => [m, predictedClasses(d, m)])) as Record<Mode, Int32Array>,
    groups: bootstrapUnits(project, d),
    fieldsUsed: d.cfg.fieldsUsed,
    seed: d.cfg.seed,
  });
}
