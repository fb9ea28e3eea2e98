import { KEY_SEPARATOR } from '../ml/fusion/dataset.ts';
import { DermFuseError } from '../../shared/errors.ts';
import { MODES, runClassOf, type CaseFilter, type CaseRow, type EmbeddingMap, type LabelIssue, type Mode } from '../../shared/results.ts';
import { storePcaMap } from '../ml/backbone/extract.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import type { Project } from '../project.ts';
import { currentLabels, loadRunData, metadataOf, predictedClasses, type RunData } from '../ml/fusion/runData.ts';
import { repoOf } from '../db/open.ts';
import { ReviewsRepo } from '../db/repos/reviewsRepo.ts';

export interface CaseQuery {
  runId: number;
  mode: Mode;
  trueClass?: string;
  predictedClass?: string;
  filter: CaseFilter;
  limit: number;
}

const EPS = 1e-12;

/**
 * The images behind a number of the report: a confusion-matrix cell (true and predicted class under a mode), the
 * mistakes, or where the metadata changed the answer; sorted by the mode's loss, worst first.
 */
export function runCases(project: Project, q: CaseQuery): { total: number; rows: CaseRow[] } {
  const d = loadRunData(project, q.runId);
  const C = d.classes.length;
  const pred = Object.fromEntries(MODES.map((m) => [m, predictedClasses(d, m)])) as Record<Mode, Int32Array>;
  const cls = (name: string | undefined) => {
    if (name === undefined) return undefined;
    const k = d.classes.indexOf(name);
    if (k < 0) throw new DermFuseError('NOT_FOUND', `Run ${q.runId} has no class "${name}". Classes: ${d.classes.join(', ')}.`);
    return k;
  };
  const t = cls(q.trueClass);
  const p = cls(q.predictedClass);
  const right = (m: Mode, i: number) => pred[m][i] === d.labels[i];
  const keep = (i: number): boolean => {
    if (t !== undefined && d.labels[i] !== t) return false;
    if (p !== undefined && pred[q.mode][i] !== p) return false;
    switch (q.filter) {
      case 'all':
        return true;
      case 'wrong':
        return !right(q.mode, i);
      case 'fusedRightImageWrong':
        return right('fused', i) && !right('image', i);
      case 'imageRightFusedWrong':
        return right('image', i) && !right('fused', i);
      case 'fusedRightMetadataWrong':
        return right('fused', i) && !right('metadata', i);
      default: {
        const never: never = q.filter;
        throw new Error(`unknown filter ${String(never)}`);
      }
    }
  };
  const loss = (i: number) => -Math.log(Math.max(EPS, d.probs[q.mode][i * C + d.labels[i]!]!));
  const chosen = d.labels.reduce<number[]>((acc, _, i) => (keep(i) ? (acc.push(i), acc) : acc), []).sort((a, b) => loss(b) - loss(a));
  const page = chosen.slice(0, q.limit);
  const meta = metadataOf(
    project,
    page.map((i) => d.imageIds[i]!),
  );
  const now = currentLabels(project, q.runId, d.labelSetId);
  return {
    total: chosen.length,
    rows: page.map((i, r) => ({
      imageId: d.imageIds[i]!,
      externalId: d.externalIds[i]!,
      trueLabel: d.classes[d.labels[i]!]!,
      currentLabel: now.get(d.imageIds[i]!) ?? null,
      labelChanged: runClassOf(d.cfg.positive, d.classes, now.get(d.imageIds[i]!) ?? null) !== d.labels[i],
      probs: Object.fromEntries(MODES.map((m) => [m, Array.from(d.probs[m].subarray(i * C, (i + 1) * C), (x) => Math.round(x * 1e4) / 1e4)])) as Record<
        Mode,
        number[]
      >,
      predicted: Object.fromEntries(MODES.map((m) => [m, d.classes[pred[m][i]!]!])) as Record<Mode, string>,
      loss: loss(i),
      metadata: Object.fromEntries(meta.fields.map((f, j) => [f.name, meta.rows[r]![j] ?? null])),
    })),
  };
}

/**
 * Likely label errors by confident learning (Northcutt et al., 2021) on the out-of-fold probabilities: a class's
 * threshold is the mean probability the model gives that class on the images labelled with it; an image is
 * suspect when the most probable class above its threshold is not its label. Ranked by how much more probable that
 * class is than the given label (normalised margin), most suspect first.
 */
export function confidentLearning(
  d: Pick<RunData, 'classes' | 'labels'>,
  probs: Float64Array,
): { index: number; suggested: number; selfConfidence: number; margin: number }[] {
  const C = d.classes.length;
  const n = d.labels.length;
  const sum = new Float64Array(C);
  const count = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    sum[d.labels[i]!]! += probs[i * C + d.labels[i]!]!;
    count[d.labels[i]!]!++;
  }
  const threshold = Array.from(sum, (s, c) => (count[c] ? s / count[c]! : 1));
  const out: { index: number; suggested: number; selfConfidence: number; margin: number }[] = [];
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let c = 0; c < C; c++) if (probs[i * C + c]! >= threshold[c]! && (best < 0 || probs[i * C + c]! > probs[i * C + best]!)) best = c;
    const given = d.labels[i]!;
    if (best < 0 || best === given) continue;
    const self = probs[i * C + given]!;
    out.push({ index: i, suggested: best, selfConfidence: self, margin: probs[i * C + best]! - self });
  }
  return out.sort((a, b) => b.margin - a.margin);
}

/** The likely label errors of a run (on the fused model's out-of-fold probabilities), with review decisions taken since. */
export function labelIssues(project: Project, runId: number, mode: Mode = 'fused'): LabelIssue[] {
  const d = loadRunData(project, runId);
  const now = currentLabels(project, runId, d.labelSetId);
  const reviews = new Map(
    repoOf(project.db, ReviewsRepo)
      .ofRunImages(runId)
      .map((r) => [r.image_id, r.decision]),
  );
  return confidentLearning(d, d.probs[mode]).map((x) => ({
    imageId: d.imageIds[x.index]!,
    externalId: d.externalIds[x.index]!,
    given: d.classes[d.labels[x.index]!]!,
    suggested: d.classes[x.suggested]!,
    relabelTo: d.cfg.positive ? null : d.classes[x.suggested]!,
    selfConfidence: Math.round(x.selfConfidence * 1e4) / 1e4,
    margin: Math.round(x.margin * 1e4) / 1e4,
    currentLabel: now.get(d.imageIds[x.index]!) ?? null,
    review: reviews.get(d.imageIds[x.index]!) ?? null,
  }));
}

/** The 2-D map of the run's image features, with label, prediction and correctness per point, and every field. */
export function embeddingMap(project: Project, runId: number, mode: Mode = 'fused'): EmbeddingMap {
  const d = loadRunData(project, runId);
  // Several backbones: the map of the first.
  const key = d.result.backbone.split(KEY_SEPARATOR)[0]!;
  const mapRows = () => repoOf(project.db, FeatureStore).mapPoints(key);
  let rows = mapRows();
  if (rows.length === 0) {
    const store = repoOf(project.db, FeatureStore);
    if (!store.backbones().some((b) => b.key === key))
      throw new DermFuseError('NOT_FOUND', `The features of run ${runId} (${key}) are gone: extract them again.`);
    // Features stored without their map (older projects, imported vectors): compute it once now.
    storePcaMap(store, key);
    rows = mapRows();
  }
  const coords = new Map(rows.map((r) => [r.id, r]));
  const pred = predictedClasses(d, mode);
  const idx = d.imageIds.map((id, i) => [id, i] as const).filter(([id]) => coords.has(id));
  const meta = metadataOf(
    project,
    idx.map(([id]) => id),
  );
  return {
    backbone: key,
    points: idx.map(([id, i]) => ({
      imageId: id,
      x: coords.get(id)!.x,
      y: coords.get(id)!.y,
      label: d.classes[d.labels[i]!]!,
      predicted: d.classes[pred[i]!]!,
      correct: pred[i] === d.labels[i],
    })),
    fields: Object.fromEntries(meta.fields.map((f, j) => [f.name, meta.rows.map((r) => r[j] ?? null)])),
  };
}
