/** Long work as the contract carries it: a job per kind, each with its own typed result. */
import type { ImportProblem, ImportSummary, Progress } from './types.ts';
import type { Comparison, FinetuneReport, Mode } from './results.ts';
import type { QualityScanSummary } from './quality.ts';

export const JOB_KINDS = ['import', 'extract', 'train', 'quality', 'validate'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** How cross-validation folds (and bootstrap resamples) keep images together. */
export const GROUP_BY = ['patient', 'lesion', 'image'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** Which near-duplicate pairs join images into one group for a run: confirmed only, also unreviewed ones found by the last scan, or none. */
export const DUPLICATE_MERGES = ['unreviewed', 'confirmed', 'none'] as const;
export type DuplicateMergeMode = (typeof DUPLICATE_MERGES)[number];

/**
 * Which label a run trains on when several annotators labelled an image: the latest label (whoever gave it), the
 * adjudicator's decision where there is one, else the majority (`adjudicated`), the majority of each annotator's
 * latest label (a tie keeps the latest), or the Dawid-Skene consensus.
 */
export const CONSENSUS_RULES = ['latest', 'adjudicated', 'majority', 'dawid-skene'] as const;
export type ConsensusRule = (typeof CONSENSUS_RULES)[number];

/** What a training run uses when the form or the command line does not say: declared once for both. */
export const TRAIN_DEFAULTS = { group: 'patient', folds: 5, seed: 1, duplicates: 'unreviewed' } as const satisfies {
  group: GroupBy;
  folds: number;
  seed: number;
  duplicates: DuplicateMergeMode;
};

/**
 * Fine-tuning's defaults (the form shows them; finetune/finetuneRun.ts applies them): all 8 flips/quarter turns, at most
 * 12 epochs (the PyTorch recipe's best epoch on PAD was 2-5 of 12; early stopping ends most fits sooner).
 */
export const FINETUNE_DEFAULTS = { views: 8, epochs: 12 } as const;

/** Where CNN features are computed: ONNX Runtime's native kernels, or TensorFlow.js (tfjs-node, wasm or cpu). */
export const RUNTIMES = ['onnx', 'tfjs'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** Which runtime ran an extraction, and why not the other. */
export interface RuntimeInfo {
  runtime: RuntimeName;
  /** e.g. "onnxruntime-node 1.30.0, cpu, 2 threads" or "TF.js wasm 4.22.0 (SIMD on)". */
  detail: string;
  /** TF.js models: true when the model ran on ONNX Runtime as a graph converted from it (checked against TF.js). */
  converted: boolean;
  /** Why a faster runtime was not used, one line each. */
  notes: string[];
}

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Which TensorFlow.js backend ran, and why not a faster one. */
export interface BackendInfo {
  backend: BackendName;
  /** Version of the package that provides the backend. */
  version: string;
  /** Why a faster backend was not used, one line each. */
  fallbacks: string[];
  /** wasm only: SIMD and threads as configured. */
  simd?: boolean;
  threads?: boolean;
  /** True when the backend runs its kernels on several cores itself (so one worker is enough). */
  multiThreaded: boolean;
}

/** What a feature extraction did. */
export interface ExtractSummary {
  backbone: string;
  key: string;
  dim: number;
  images: number;
  extracted: number;
  cached: number;
  failed: number;
  failures: ImportProblem[];
  seconds: number;
  imagesPerSecond: number;
  /** Time to start the workers and load the backbone (included in seconds). */
  loadSeconds: number;
  /** Time to compute the 2-D map of all the features at the end (included in seconds). */
  mapSeconds: number;
  /** Throughput of the decode-and-embed loop (load and map excluded): what a peer timing only its loop reports. */
  steadyImagesPerSecond: number;
  /** True when BatchNorm and activations were fused into the convolutions (checked against the standard path). */
  fused: boolean;
  backend: string;
  backendInfo: BackendInfo | null;
  runtime: RuntimeInfo | null;
  workers: number;
  /** Tensors alive in each worker after its last batch: flat across a run, so nothing leaks. */
  workerTensors: number[];
}

export interface LeakageWarning {
  field: string;
  kind: 'post-diagnosis' | 'missingness';
  /** Why, with the numbers. */
  message: string;
  /** Cramér's V between "value missing" and the target (missingness), else 1. */
  strength: number;
}

/** Seconds per phase of a run: PCA fits, reported heads, fusion selection (inner CV), evaluation (bootstrap). */
export interface PhaseTimings {
  pca: number;
  heads: number;
  selection: number;
  evaluation: number;
  /** Permutation importance: shuffled predictions per fold and the bootstrap (runs trained before it: absent). */
  importance?: number;
}

/** What a training run reports when it finishes (its full result is stored with the run). */
export interface TrainSummary {
  runId: number;
  task: 'binary' | 'multiclass';
  label: string;
  classes: string[];
  folds: number;
  groups: number;
  groupBy: GroupBy;
  images: number;
  backbone: string;
  fieldsUsed: string[];
  fieldsExcluded: { field: string; reason: string }[];
  leakage: LeakageWarning[];
  /** The consensus rule, and how many images it gave another label than the latest one. */
  consensus?: { rule: ConsensusRule; differing: number };
  /** Near-duplicates joined for the folds: pairs among the run's images, groups joined, pairs the folds would have split. */
  duplicates?: { include: DuplicateMergeMode; pairs: number; merges: number; crossedFolds: number };
  fusion: string;
  fusionPerFold: string[];
  /** Heads of the single-modality models (linear or MLP, chosen by inner CV): of the final models, and per fold. */
  heads?: string;
  headsPerFold?: string[];
  modes: Record<Mode, { auc: number; aucCI: [number, number]; balancedAccuracy: number; balancedAccuracyCI: [number, number] }>;
  fusedVsImage: Comparison;
  fusedVsMetadata: Comparison;
  fusedBeatsBoth: boolean;
  seconds: number;
  timings: PhaseTimings;
  backend: string;
  /** Runs that trained the top of the CNN too: what was trained and how it compares with the frozen run. */
  finetune?: FinetuneReport;
}

/** What a finished external validation reports: where it is stored and its headline figures (the report: validations.get). */
export interface ValidationSummary {
  id: number;
  runId: number;
  images: number;
  fusedAuc: number;
  imageShiftAuc: number | null;
}

/** The result each kind of job ends with. */
export interface JobResults {
  import: ImportSummary;
  extract: ExtractSummary;
  train: TrainSummary;
  quality: QualityScanSummary;
  validate: ValidationSummary;
}

export interface JobBase {
  id: number;
  title: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  progress: Progress | null;
  startedAt: string;
  finishedAt: string | null;
  /** Seconds left at the current phase's rate; null until it can be estimated. */
  etaSeconds: number | null;
  elapsedSeconds: number;
  error: { code: string; message: string } | null;
  /** Bumped on every change: watchers ask for news past the version they have. */
  version: number;
}

/** A job whose result types come from `R` (the app's JobResults, or a test's own). */
export type JobInfoOf<R extends Record<JobKind, unknown>, K extends JobKind = JobKind> = { [P in K]: JobBase & { kind: P; result: R[P] | null } }[K];
/** Long work as the UI sees it: progress with an estimate of the time left, then its kind's result or an error. */
export type JobInfo = JobInfoOf<JobResults>;
export type JobOf<K extends JobKind> = JobInfoOf<JobResults, K>;
