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
  /** What the screens call the field; null: its name. */
  displayName: string | null;
}

/** What a screen calls a field: its display name, else its name. */
export function fieldLabel(f: { name: string; displayName?: string | null }): string {
  return f.displayName ?? f.name;
}

/** A typed metadata value: numbers for number/ordinal, booleans, strings for category/text; null is missing. */
export type FieldValue = number | boolean | string | null;
/** The longest metadata value, in characters: one rule for the editor, the API and imported CSV cells. */
export const MAX_VALUE_CHARS = 10_000;

export interface ImportProblem {
  /** What the problem is about: a file path, or `metadata.csv line 12`. */
  source: string;
  message: string;
  /** The CSV line, column and cell the problem is about, where it is about one (the import screen tabulates them). */
  line?: number;
  column?: string;
  value?: string;
}

/** A role proposed for a column of a CSV no preset knows: the import screen takes it as the column's default. */
export interface ImportRoleMatch {
  column: string;
  role: 'id' | 'label' | 'patient' | 'lesion';
  /** Found by the column's values (photo names, a label set's classes) or only by its name. */
  by: 'values' | 'name';
  reason: string;
}

/** Which label set an import's labels go to, and why; the project's sets are the alternatives. */
export interface ImportLabelSetChoice {
  name: string;
  isNew: boolean;
  reason: string;
  existing: string[];
  /** Label values the set does not have: the import adds them as its classes (the preview names them). */
  newClasses: string[];
}

/** One folder of the serve folder picker (or, with dir null, the allowed data folders). */
export interface FolderListing {
  dir: string | null;
  /** The folder above, while still inside a data folder. */
  parent: string | null;
  roots: string[];
  folders: string[];
  csvFiles: string[];
  /** Image files directly in this folder. */
  images: number;
  truncated: boolean;
}

/** A file to upload into the project (serve): its path below the chosen folder, with "/" between parts, and size. */
export interface UploadFile {
  path: string;
  size: number;
}

/** An upload under way: where its files go, and the largest piece one request may carry. */
export interface UploadBatch {
  id: string;
  dir: string;
  chunkBytes: number;
}

/** A finished upload: its folder and the CSV files in it, ready to import. */
export interface UploadDone {
  dir: string;
  images: number;
  csvFiles: string[];
}

/** A CSV column proposed for an existing metadata field (the import screen offers it as the column's default). */
export interface ImportFieldMatch {
  column: string;
  field: string;
  reason: string;
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
  /** True while a blind labelling task hides label counts from this annotator (labelled and classes are zeros). */
  countsHidden?: boolean;
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

/** The counts the browser shows: computed for the first page of a query only (the hot path pages without them). */
export interface BrowseCounts {
  /** Images matching the filter. */
  total: number;
  /** All readable images and those without a label, whatever the filter. */
  all: number;
  unlabelled: number;
  classes: { name: string; hotkey: string | null; color: string | null; count: number }[];
}

export interface ImageList {
  offset: number;
  items: ImageSummary[];
  counts: BrowseCounts | null;
}

export interface LabelEvent {
  label: string | null;
  unsure: boolean;
  author: string;
  source: string;
  at: string;
  /** Its author took it back (undo in a team): kept in the history, no longer the image's label. */
  withdrawn: boolean;
}

/** One metadata edit of an image: the field, the value before and after (as stored text), who, how, when. */
export interface FieldEdit {
  field: string;
  before: string | null;
  after: string | null;
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
  /** Metadata edits, newest first: the history shows them beside the labels. */
  fieldHistory: FieldEdit[];
  /** Other images of the same lesion, and of the same patient. */
  sameLesion: number[];
  samePatient: number[];
}

/** A filter on one metadata field: a numeric range, a set of values, or "missing". */
export type FieldFilter =
  | { kind: 'range'; field: string; min: number | null; max: number | null }
  | { kind: 'values'; field: string; values: (string | number | boolean)[] }
  | { kind: 'missing'; field: string };

/** What the filter panel offers per field: observed values with counts (categories) or the observed range. */
export interface FieldSummary {
  name: string;
  displayName: string | null;
  type: FieldType;
  unit: string | null;
  missing: number;
  min: number | null;
  max: number | null;
  values: { value: string | number | boolean; count: number }[];
}

export interface BrowseFacets {
  fields: FieldSummary[];
  annotators: { name: string; count: number }[];
}

/** What an import would do, shown before anything is written. */
export interface ImportPreview {
  imagesDir: string;
  metadataPath: string | null;
  preset: Exclude<PresetName, 'auto'> | null;
  header: string[];
  mapping: { id: string; label: string | null; labelSet: string | null; patient: string | null; lesion: string | null; fields: FieldSpec[] } | null;
  images: number;
  rows: number;
  rowsMatched: number;
  rowsWithoutImage: number;
  imagesWithoutRow: number;
  /** Up to the first 200 problems; problemCount has them all. */
  problems: ImportProblem[];
  problemCount: number;
  /** Label counts over matched rows. */
  classes: Record<string, number>;
  /** Where the labels go (null: no label column). */
  labelSet: ImportLabelSetChoice | null;
  /** Columns that look like fields the project has, not mapped to them yet. */
  fieldMatches: ImportFieldMatch[];
  /** Roles proposed for the columns (id, label, patient, lesion) when no preset knows the CSV. */
  roleMatches: ImportRoleMatch[];
  /** Each mapped column's field: its name in the project (an existing field or a new one) and type. */
  columns: { column: string; field: string; type: FieldType; existing: boolean }[];
}

export interface LabelClass {
  name: string;
  /** #rrggbb */
  color: string | null;
  /** One character; null: none. */
  hotkey: string | null;
  count: number;
}

export interface DerivedTarget {
  name: string;
  classes: string[];
}

export interface LabelSetInfo {
  name: string;
  classes: LabelClass[];
  targets: DerivedTarget[];
  /** True while a blind labelling task hides the class counts from this annotator (they read 0). */
  countsHidden?: boolean;
}
