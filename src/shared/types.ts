/** Domain types shared by main, CLI and renderer. Pure TypeScript: no node, electron or DOM imports. */

export const FIELD_TYPES = ['number', 'ordinal', 'category', 'boolean', 'text'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const PRESET_NAMES = ['auto', 'isic', 'ham10000', 'pad-ufes-20', 'generic'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** How a metadata field is described: name, type and the constraints its values must meet. */
export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Allowed values for category and ordinal fields (ordinal: in order). */
  allowedValues: string[] | null;
  unit: string | null;
  min: number | null;
  max: number | null;
}

/** A metadata field of a project: its schema, not its values. */
export interface Field extends FieldSpec {
  missingAllowed: boolean;
}

/** A typed metadata value: numbers for number/ordinal, booleans, strings for category/text; null is missing. */
export type FieldValue = number | boolean | string | null;

export interface ImportProblem {
  /** What the problem is about: a file path, or `metadata.csv line 12`. */
  source: string;
  message: string;
}

export interface ImportSummary {
  importId: number;
  imagesAdded: number;
  imagesUpdated: number;
  imagesUnchanged: number;
  imagesRelinked: number;
  imagesFailed: number;
  rowsMatched: number;
  rowsWithoutImage: number;
  imagesWithoutRow: number;
  preset: Exclude<PresetName, 'auto'> | null;
  label: string | null;
  classes: Record<string, number>;
  fields: { name: string; type: FieldType }[];
  /** Edits made in the app that a re-import kept rather than overwrote. */
  userEditsKept: number;
  errors: ImportProblem[];
  seconds: number;
}

export interface ProjectInfo {
  dir: string;
  schemaVersion: number;
  images: number;
  imagesFailed: number;
  labelled: number;
  label: string | null;
  classes: Record<string, number>;
  patients: number;
  lesions: number;
  fields: Field[];
}

/** Progress of long work, throttled by the sender. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  message?: string;
}

export interface ImageSummary {
  id: number;
  externalId: string;
  label: string | null;
  unsure: boolean;
  /** A model's suggestion (from an applied bundle), if any. */
  suggestion: { label: string; probability: number } | null;
}

export interface ImageList {
  /** Images matching the filter (before paging). */
  total: number;
  /** All readable images and those without a label, whatever the filter. */
  all: number;
  unlabelled: number;
  offset: number;
  items: ImageSummary[];
  classes: { name: string; hotkey: string | null; count: number }[];
}

export interface LabelEvent {
  label: string | null;
  unsure: boolean;
  author: string;
  source: string;
  at: string;
}

export interface ImageDetail extends ImageSummary {
  width: number | null;
  height: number | null;
  patient: string | null;
  lesion: string | null;
  metadata: Record<string, FieldValue>;
  fields: Field[];
  history: LabelEvent[];
  /** Other images of the same lesion, and of the same patient. */
  sameLesion: number[];
  samePatient: number[];
}
