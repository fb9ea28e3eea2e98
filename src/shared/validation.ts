/** External validation (issue 27): a finished run scored on a second labelled set, with what shifted between them. */
import { z } from 'zod';
import type { Interval, Mode, ModeFigures, SubgroupTable } from './results.ts';

const path = z.string().min(1).max(4096);
const name = z.string().min(1).max(200);

/** Where the external images come from: another DermFuse project, or an image folder with its CSV. */
export const ValidationSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('project'),
    dir: path,
    /** Its label set (absent: the run's label set's name, else its primary one). */ labelSet: name.optional(),
  }),
  z.object({
    kind: z.literal('folder'),
    imagesDir: path,
    metadataPath: path,
    idColumn: name.optional(),
    labelColumn: name.optional(),
    patientColumn: name.optional(),
  }),
]);
export type ValidationSource = z.infer<typeof ValidationSourceSchema>;

/** How the external set's classes, fields and values read as the run's. Shared by the CLI flags, the form and the job. */
export const ValidationMapsSchema = z.object({
  /** Binary runs: the external classes that count as the run's positive class (all others negative). */
  positive: z.array(name).max(200).optional(),
  /** External class → run class ("" leaves the external class's images out). */
  classMap: z.record(name, z.string().max(200)).optional(),
  /** External field → run field. */
  fieldMap: z.record(name, name).optional(),
  /** Per run field: external value → the value the run knows ("" reads it as missing). */
  valueMap: z.record(name, z.record(z.string().max(500), z.string().max(500))).optional(),
  /** Run fields read as missing for every external image (imputed as in training), even where the set has one of that name. */
  absent: z.array(name).max(200).optional(),
});
export type ValidationMaps = z.infer<typeof ValidationMapsSchema>;

export const ValidateRequestSchema = ValidationMapsSchema.extend({
  runId: z.number().int().positive(),
  source: ValidationSourceSchema,
  /** Binary runs: the share of external patients whose images fit a Platt recalibration, reported apart on the rest. */
  recalibrate: z.number().gt(0).lt(1).optional(),
  /** Keep external images that are training photos of the run (the same file content) in the figures; left out by default. */
  includeTrainingPhotos: z.boolean().optional(),
});
export type ValidateRequest = z.infer<typeof ValidateRequestSchema>;

/** What the Validate form offers before anything runs: both sides' classes and fields with their values. */
export interface ValidationPlan {
  run: {
    runId: number;
    task: 'binary' | 'multiclass';
    /** The run's classes (binary: "not X", "X"). */
    classes: string[];
    /** Binary runs trained on a derived target: the label-set classes that made its positive class. */
    positive: string[] | null;
    /** The label-set classes the run was trained on. */
    labelClasses: string[];
    fields: { name: string; type: string; values: string[] | null }[];
  };
  external: {
    images: number;
    classes: { name: string; count: number }[];
    fields: { name: string; type: string; values: { value: string; count: number }[] | null; missing: number }[];
  };
  /** Maps filled in where names match (the form starts from them). */
  suggested: Required<Pick<ValidationMaps, 'classMap' | 'fieldMap'>> & { positive: string[] | null };
}

/** A mode's figures on the external set, decided at the run's final decision rule. */
export interface ExternalModeReport extends ModeFigures {
  /** Binary: at the run's operating point (its final model's threshold). */
  operating: { threshold: number; sensitivity: number; specificity: number; ppv: number; npv: number } | null;
}

export interface FieldShift {
  /** The run's field, and the external field it was read from (null: absent, every value imputed). */
  field: string;
  from: string | null;
  type: string;
  /** Share missing in training and external. */
  missing: { train: number; external: number };
  /**
   * Numbers: means and standard deviations; the standardised mean difference (external − training) and its 95%
   * bootstrap interval (absent in reports stored before it existed).
   */
  numbers: { train: { mean: number; sd: number }; external: { mean: number; sd: number }; smd: number; smdCI?: [number, number] } | null;
  /** Categories and booleans: each value's share (of non-missing) side by side. */
  shares: { value: string; train: number; external: number }[] | null;
  /** Population stability index (training deciles for numbers; values for categories). */
  psi: number | null;
  /** The PSI's permutation p-value: how often relabelling the pooled values gives a PSI as large (absent in older reports). */
  psiP?: number | null;
  /**
   * The worst of: the SMD's interval beyond 0.1 (moderate) or 0.25 (major); the PSI beyond them with p < 0.01; the
   * missing share's difference interval beyond 10 or 25 points. Sampling noise alone stays 'none'.
   */
  level: 'none' | 'moderate' | 'major';
}

export interface ImageShift {
  /** Out-of-fold AUC of telling training from external images by their backbone features: 0.5 = indistinguishable. */
  auc: Interval;
  folds: number;
  /** The external images least like any training image (lowest cosine similarity to their nearest one). */
  leastLike: { externalId: string; similarity: number; nearest: string }[];
  /** The median external image's similarity to its nearest training image, and the same within training (leave-one-out). */
  medianSimilarity: { external: number; train: number };
}

export interface PrevalenceShift {
  train: number;
  external: number;
  /** Per mode at the run's operating point: the internal sensitivity and specificity read at both prevalences. */
  modes: Record<Mode, { internal: { ppv: number; npv: number }; internalAtExternalPrevalence: { ppv: number; npv: number } }>;
}

/** One mode's figures on the held-out part of the external set (the images recalibration did not see). */
export interface HeldOutFigures {
  auc: number;
  calibrationError: number;
  brier: number;
  calibration: { confidence: number; accuracy: number; count: number }[];
}

/**
 * Platt recalibration fitted on a patient-grouped random slice of the external set and judged on the rest: each
 * mode's score before and after on the same held-out images. Apart from the report's other figures, which use every
 * external image untouched.
 */
export interface RecalibrationReport {
  fraction: number;
  fit: { images: number; groups: number };
  heldOut: { images: number; groups: number };
  /** p' = σ(slope · logit p + intercept), per mode; AUC is unchanged by it (slope > 0). */
  modes: Record<Mode, { slope: number; intercept: number; before: HeldOutFigures; after: HeldOutFigures }>;
}

/** An external image whose label the fused model confidently doubts (confident learning, as for a run's own images). */
export interface ExternalLabelIssue {
  externalId: string;
  /** The external label, the run class it counts as, and the class the fused model suggests. */
  label: string;
  truth: string;
  suggested: string;
  /** Suggested minus given probability (fused): the ranking score. */
  margin: number;
  /** Each mode's probability of the given class. */
  pLabel: Record<Mode, number>;
}

export interface ValidationRow {
  externalId: string;
  /** The external label, and the run class it counts as. */
  label: string;
  truth: string;
  probs: Record<Mode, number[]>;
  missingFields: string[];
}

export interface ValidationReport {
  runId: number;
  createdAt: string;
  source: { kind: 'project' | 'folder' | 'bundle'; description: string };
  task: 'binary' | 'multiclass';
  classes: string[];
  images: number;
  groups: number;
  /** External classes and the run class each counts as (null: left out). */
  classMap: { external: string; run: string | null; count: number }[];
  /** How each run field was read: its external source, or absent and imputed as in training (and what that costs). */
  fields: { field: string; from: string | null; imputed: string | null; costAuc: number | null }[];
  modes: Record<Mode, ExternalModeReport>;
  /** The run's own cross-validated figures; null for a bundle that carries none. */
  internal: Record<Mode, { auc: Interval; balancedAccuracy: Interval }> | null;
  /** External minus internal, with an interval from independent patient resamples of both. */
  difference: Record<Mode, { auc: Interval; balancedAccuracy: Interval }> | null;
  shift: { fields: FieldShift[]; images: ImageShift | null; prevalence: PrevalenceShift | null };
  subgroups: SubgroupTable;
  /** Asked for with --recalibrate (absent in reports stored before it existed). */
  recalibration?: RecalibrationReport | null;
  /** Likely label errors of the external set, most suspect first (absent in reports stored before they existed). */
  labelIssues?: ExternalLabelIssue[];
  /**
   * External images that are training photos of the run (the same SHA-256 as an image it trained on): how many, their
   * ids, and whether they were left out of the figures (the default). Absent in reports stored before it existed.
   */
  trainingPhotos?: { count: number; excluded: boolean; ids: string[] };
  /**
   * The unit of the bootstrap intervals and of the photo classifier's folds on the external side: its patients, or
   * single images when the external set has no patient column (intervals may then be too narrow). Absent in reports
   * stored before it existed (they resampled patients where there were any, else images).
   */
  grouping?: 'patient' | 'image';
  /** Where the image features came from: cached in the other project, or computed now. */
  features: { cached: number; computed: number; failed: number };
  warnings: string[];
  rows: ValidationRow[];
}

/** A stored validation as lists show it. */
export interface ValidationListItem {
  id: number;
  runId: number;
  createdAt: string;
  source: string;
  images: number;
  modes: Record<Mode, { auc: Interval }>;
  imageShiftAuc: number | null;
}
