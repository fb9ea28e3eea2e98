/** Data quality as the contract carries it: the near-duplicate scan, its groups and their review, outliers. */
import type { ImportProblem } from './types.ts';

/** What a data-quality scan did. */
export interface QualityScanSummary {
  images: number;
  /** Images hashed by this scan (new or changed); the others kept their hashes. */
  hashed: number;
  failures: ImportProblem[];
  /** Feature set the cosines come from (the built-in MobileNetV2-0.35); null when none could be computed. */
  featureKey: string | null;
  /** Images compared by hash only (no features). */
  withoutFeatures: number;
  pairs: number;
  groups: number;
  /** Groups whose images belong to two patients or more: an identity error or a leak between folds. */
  crossPatientGroups: number;
  crossLesionGroups: number;
  labelConflictGroups: number;
  /** Images ranked as outliers (the top OUTLIER_SHARE by how unlike their nearest neighbours they are). */
  outliers: number;
  rule: string;
  seconds: number;
  extractSeconds: number;
  hashSeconds: number;
  pairSeconds: number;
}

export type DuplicateDecision = 'same' | 'different';

/** Browser filters from the last scan: its outliers, or images in a near-duplicate group nobody has confirmed. */
export const QUALITY_FILTERS = ['outliers', 'duplicates'] as const;
export type QualityFilter = (typeof QUALITY_FILTERS)[number];

export interface DuplicateMember {
  id: number;
  externalId: string;
  patient: string | null;
  lesion: string | null;
  label: string | null;
}

export interface DuplicatePair {
  a: number;
  b: number;
  /** Null for a confirmed pair the last scan did not find. */
  hashBits: number | null;
  cosine: number | null;
  score: number | null;
  decision: DuplicateDecision | null;
  author: string | null;
  decidedAt: string | null;
}

export interface DuplicateGroup {
  /** The group's smallest image id (stable while its members stay). */
  id: number;
  members: DuplicateMember[];
  pairs: DuplicatePair[];
  spansPatients: boolean;
  spansLesions: boolean;
  labelsDisagree: boolean;
  /** confirmed: every pair confirmed the same lesion; unreviewed: none decided; partly: some; dismissed: said to be different images. */
  status: 'unreviewed' | 'partly' | 'confirmed' | 'dismissed';
}

export interface DuplicateReport {
  /** When the last scan ran and what it found; null before the first scan. */
  scan: (QualityScanSummary & { at: string }) | null;
  rule: string;
  groups: DuplicateGroup[];
  /** Pairs an annotator said are different images. */
  dismissedPairs: number;
}

/** How unlabelled images are ordered for labelling: by the model's doubt, that plus spread over the feature space, or at random. */
export const LABEL_NEXT_STRATEGIES = ['uncertainty+diversity', 'uncertainty', 'random'] as const;
export type LabelNextStrategy = (typeof LABEL_NEXT_STRATEGIES)[number];

/** Where the "label next" order came from, as the browser and the CLI show it. */
export interface LabelNextInfo {
  /** "run 3" or "bundle /path". */
  source: string;
  strategy: LabelNextStrategy;
  images: number;
  at: string;
}
