/** What the results screens show: runs, their report, the cases behind each number, likely label errors, the map. */
import type { FieldValue } from './types.ts';
import type { PermutationImportance } from './explain.ts';

export const MODES = ['image', 'metadata', 'fused'] as const;
export type Mode = (typeof MODES)[number];

/**
 * The run class index of a label, mapped as the run mapped labels: a derived target folds classes into 1 (in
 * `positive`) and 0; otherwise the class's place in the run's classes. -1 for no label, or a class the run lacks.
 */
export function runClassOf(positive: string[] | null, classes: string[], name: string | null): number {
  if (name === null) return -1;
  if (positive) return positive.includes(name) ? 1 : 0;
  return classes.indexOf(name);
}

export interface Interval {
  value: number;
  ci: [number, number];
}

/** AUC of one mode minus another, with a paired group-bootstrap interval and two-sided p-value. */
export interface Comparison {
  difference: number;
  ci: [number, number];
  p: number;
}

/**
 * Random views fine-tuning can train on beside the flips and quarter turns: crops of a random part of the input, and
 * random brightness, contrast and saturation. Trained on only; test-time averaging keeps to the flips and turns.
 */
export const AUGMENTS = ['crops', 'jitter'] as const;
export type Augment = (typeof AUGMENTS)[number];

/** A fine-tuned run against the frozen run it was cut from, on the same folds. */
export interface FinetuneReport {
  /** The frozen run of the same configuration, trained first: its folds are this run's folds. */
  baselineRunId: number;
  backbone: string;
  /** The tensor the network was cut at: everything after it was trained. */
  cut: string;
  trainedConvolutions: number;
  totalConvolutions: number;
  /** Views per image (flips and quarter turns) cached, trained on and averaged at test time. */
  views: number;
  /** Random training views beside them (as many again), never averaged; absent in runs from before they existed. */
  augment?: Augment[];
  epochs: number;
  /** Each outer fold's best epoch (early stopping on held-out patients), and the final network's. */
  bestEpochs: number[];
  finalBestEpoch: number;
  samplesPerSecond: number;
  cacheSeconds: number;
  trainSeconds: number;
  workers: number;
  /** Feature key of the fine-tuned network (the run's backbone, used by predict and export). */
  tunedBackbone: string;
  /** The frozen run's figures per mode. */
  frozen: Record<Mode, { auc: number; aucCI: [number, number]; balancedAccuracy: number; balancedAccuracyCI: [number, number] }>;
  /** Fine-tuned minus frozen AUC per mode, paired over the same images (metadata: the same model, so 0). */
  vsFrozen: Record<Mode, Comparison>;
}

/** One folder of cached trunk activations (cache/finetune/NAME): reused by fine-tuned runs of the same settings. */
export interface ViewCacheInfo {
  /** Folder name under cache/finetune: the backbone's name and a digest of the cut and view settings. */
  name: string;
  /** What it caches; null in caches written before their settings were recorded. */
  backbone: string | null;
  cut: string | null;
  views: number | null;
  augment: Augment[];
  images: number;
  bytes: number;
  /** When a run last used it (ISO time); null when unknown. */
  lastUsed: string | null;
  /** A run is filling or reading it now: it cannot be removed. */
  busy: boolean;
}

/** Bytes as a person reads them on disk: 512 B, 3.4 MB, 1.20 GB. */
export function diskSize(bytes: number): string {
  if (bytes < 2 ** 10) return `${bytes} B`;
  if (bytes < 2 ** 20) return `${(bytes / 2 ** 10).toFixed(1)} KB`;
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(1)} MB`;
  return `${(bytes / 2 ** 30).toFixed(2)} GB`;
}

/** What a view cache holds, in one line: "mobilenet… from features.13, 8 views + crops: 686 images". */
export function describeViewCache(c: ViewCacheInfo): string {
  const what =
    c.backbone && c.cut && c.views
      ? `${c.backbone} from ${c.cut}, ${c.views} view${c.views === 1 ? '' : 's'}${c.augment.length > 0 ? ` + ${c.augment.join(' and ')}` : ''}`
      : 'settings not recorded';
  return `${what}: ${c.images} image${c.images === 1 ? '' : 's'}`;
}

export interface RunListItem {
  runId: number;
  status: string;
  createdAt: string;
  label: string;
  positive: string[] | null;
  fields: string[];
  folds: number;
  group: string;
  seed: number;
  backbone: string;
  images: number;
  task: 'binary' | 'multiclass' | null;
  fusion: string | null;
  /** Heads of the single-modality models ("image linear, metadata mlp"); null for runs from before the choice existed. */
  heads: string | null;
  modes: Record<Mode, { auc: Interval; balancedAccuracy: Interval }> | null;
  /** Images whose label changed since the run: its figures describe older labels. */
  staleImages: number;
  error: string | null;
  /** Runs that trained the top of the CNN too: what trained and how it compares with its frozen run; null otherwise. */
  finetune: FinetuneReport | null;
}

export interface Curve {
  x: number[];
  y: number[];
}

/** A 95% bootstrap band around a curve: at each x, the y range over patient resamples. */
export interface Band {
  x: number[];
  lo: number[];
  hi: number[];
}

/** The figures of one mode on one set of predictions: a run's report and an external validation's alike. */
export interface ModeFigures {
  auc: Interval;
  balancedAccuracy: Interval;
  brier: number;
  calibrationError: number;
  calibration: { confidence: number; accuracy: number; count: number }[];
  /** confusion[true][predicted] at the run's decision rule (a run's report: each fold's rule, out of fold). */
  confusion: number[][];
  roc: Curve;
}

export interface ModeReport extends ModeFigures {
  pr: Curve;
  rocBand: Band;
  prBand: Band;
  /** The run's decision rule for the curves' class: its false-positive rate, sensitivity and precision. */
  operating: { fpr: number; tpr: number; precision: number };
  perClass: { class: string; recall: number; precision: number; support: number }[];
}

/** One mode's figures in one subgroup; null where the subgroup is too small or lacks a class. */
export interface SubgroupModeStats {
  auc: Interval | null;
  /** Binary runs, at the run's decision rule (each image's fold threshold). */
  sensitivity: number | null;
  specificity: number | null;
  calibrationError: number | null;
}

export interface SubgroupRow {
  field: string;
  /** A value of the field, an age band, or "missing". */
  group: string;
  n: number;
  /** Binary runs: images of the positive class. */
  positives: number | null;
  /** Fewer than the minimum images, or not every class present: no figures. */
  tooFew: boolean;
  modes: Record<Mode, SubgroupModeStats>;
}

/** The best and worst subgroup of a field by AUC, and their difference with a patient-bootstrap interval. */
export interface SubgroupGap {
  field: string;
  mode: Mode;
  best: string;
  worst: string;
  gap: Interval;
  /** The interval lies above 0: a difference chance alone would rarely give. */
  significant: boolean;
}

export interface SubgroupTable {
  rows: SubgroupRow[];
  gaps: SubgroupGap[];
  /** One line: the worst subgroup (fused) and by how much; null when no field has two subgroups with an AUC. */
  summary: string | null;
  /** Fields the table slices by that the model did not use as inputs. */
  notInModel: string[];
  minN: number;
  /** ... or fewer images than this of a class: too few. */
  minPerClass: number;
}

/** "p = 0.043" or "p < 0.001": a p-value inside a sentence. */
export function pClause(p: number): string {
  const text = formatP(p);
  return text.startsWith('<') ? `p ${text}` : `p = ${text}`;
}

/** A p-value as reports print it: three decimals, and "< 0.001" below that (never "0.000"). */
export function formatP(p: number): string {
  if (Number.isNaN(p)) return '–';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

export interface RunReportView {
  run: RunListItem;
  classes: string[];
  /** The class the curves are drawn for (binary: the positive one; multiclass: one vs rest). */
  curveClass: string;
  modes: Record<Mode, ModeReport>;
  comparisons: { name: string; difference: number; ci: [number, number]; p: number }[];
  subgroups: SubgroupTable;
  /** Fields flagged as possible leakage: recorded after the diagnosis, or missing in step with the label (strength: Cramér's V). */
  leakage: { field: string; kind: 'post-diagnosis' | 'missingness'; strength: number; message: string }[];
  fieldsExcluded: { field: string; reason: string }[];
  /** Near-duplicates joined for the folds (runs from before the data-quality scan have none). */
  duplicates: { include: string; pairs: number; merges: number; crossedFolds: number } | null;
  /** Which label images several annotators labelled got (older runs: none recorded, the latest). */
  consensus: { rule: string; differing: number } | null;
  /** What the fused model relies on: permutation importance per field and the image (runs trained before it: null). */
  importance: PermutationImportance | null;
}

export const CASE_FILTERS = ['all', 'wrong', 'fusedRightImageWrong', 'imageRightFusedWrong', 'fusedRightMetadataWrong'] as const;
export type CaseFilter = (typeof CASE_FILTERS)[number];

export interface CaseRow {
  imageId: number;
  externalId: string;
  /** The label the run trained on, and the image's label now. */
  trueLabel: string;
  currentLabel: string | null;
  /** The label now maps to another class of the run than the one it trained on (a relabel since). */
  labelChanged: boolean;
  probs: Record<Mode, number[]>;
  predicted: Record<Mode, string>;
  /** Cross-entropy of the chosen mode's probability of the true label. */
  loss: number;
  metadata: Record<string, FieldValue>;
}

export interface LabelIssue {
  imageId: number;
  externalId: string;
  given: string;
  suggested: string;
  /** The label-set class a relabel to the suggestion sets; null when the run trained on a derived target (choose a class). */
  relabelTo: string | null;
  /** Probability of the given label (low: the models doubt it). */
  selfConfidence: number;
  /** Suggested minus given probability: the ranking score. */
  margin: number;
  currentLabel: string | null;
  review: 'keep' | 'relabel' | null;
}

export interface MapPoint {
  imageId: number;
  x: number;
  y: number;
  label: string | null;
  predicted: string | null;
  correct: boolean | null;
}

export interface EmbeddingMap {
  backbone: string;
  points: MapPoint[];
  /** Values of every metadata field, aligned with points. */
  fields: Record<string, FieldValue[]>;
}
