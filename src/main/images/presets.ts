import { DermFuseError } from '../../shared/errors.ts';
import type { FieldSpec, FieldType, PresetName } from '../../shared/types.ts';
import type { CsvTable } from '../files/csv.ts';
import { inferType, isMissing, levelsOf } from '../files/values.ts';

export type ConcretePreset = Exclude<PresetName, 'auto'>;

export type { FieldSpec };

/** Which CSV column plays which role. */
export interface ColumnMapping {
  preset: ConcretePreset;
  id: string;
  label: string | null;
  /** ISIC 2019 ground truth writes one column per class holding 1.0/0.0 instead of one label column. */
  oneHotLabels: string[] | null;
  /** Name of the label set the labels go to. */
  labelSet: string | null;
  patient: string | null;
  lesion: string | null;
  fields: MappedField[];
}

/** A metadata field and the CSV column it is read from (another name when mapped to an existing field). */
export interface MappedField extends FieldSpec {
  column: string;
  /** Category values the existing field spells otherwise (female → FEMALE), as the import stores them. */
  spelling?: Record<string, string>;
}

export interface MappingOptions {
  preset?: PresetName;
  idColumn?: string;
  labelColumn?: string;
  patientColumn?: string;
  lesionColumn?: string;
  /** Field type overrides by column name. */
  types?: Record<string, FieldType>;
  /** Columns read into a field of another name (an existing field of the project), by column name. */
  fieldMap?: Record<string, string>;
  /** Columns left out of the import. */
  ignore?: string[];
  /** The label set the labels go to; absent: chosen by the plan (see chooseLabelSet). */
  labelSet?: string;
  /**
   * The roles given are the whole mapping (the import screen's): a label, patient or lesion column not named is none,
   * never the preset's guess, so what the screen shows is what the import does.
   */
  exactRoles?: boolean;
}

interface Hint {
  type?: FieldType;
  unit?: string;
  min?: number;
  max?: number;
  levels?: string[];
}

interface PresetDef {
  name: ConcretePreset;
  recognise(cols: Set<string>): boolean;
  id: string[];
  /** Label candidates in order of preference; the first that is filled for most rows wins. */
  label: string[];
  oneHot?: string[];
  patient: string[];
  lesion: string[];
  hints: Record<string, Hint>;
}

const AGE: Hint = { type: 'number', unit: 'years', min: 0, max: 120 };
const FITZPATRICK: Hint = { type: 'ordinal', levels: ['1', '2', '3', '4', '5', '6'], min: 1, max: 6 };
const DIAMETER: Hint = { type: 'number', unit: 'mm', min: 0 };
const CATEGORY: Hint = { type: 'category' };
const ISIC_2019_CLASSES = ['MEL', 'NV', 'BCC', 'AK', 'BKL', 'DF', 'VASC', 'SCC', 'UNK'];

const PRESETS: PresetDef[] = [
  {
    name: 'pad-ufes-20',
    recognise: (c) => c.has('img_id') && c.has('diagnostic'),
    id: ['img_id'],
    label: ['diagnostic'],
    patient: ['patient_id'],
    lesion: ['lesion_id'],
    hints: {
      age: AGE,
      fitspatrick: FITZPATRICK,
      diameter_1: DIAMETER,
      diameter_2: DIAMETER,
      region: CATEGORY,
      gender: CATEGORY,
      background_father: CATEGORY,
      background_mother: CATEGORY,
    },
  },
  {
    name: 'ham10000',
    recognise: (c) => c.has('image_id') && c.has('dx'),
    id: ['image_id'],
    label: ['dx'],
    patient: ['patient_id'],
    lesion: ['lesion_id'],
    hints: { age: AGE, sex: CATEGORY, localization: CATEGORY, dx_type: CATEGORY },
  },
  {
    name: 'isic',
    recognise: (c) =>
      c.has('isic_id') ||
      c.has('image_name') ||
      (c.has('image') && (c.has('age_approx') || c.has('anatom_site_general') || ISIC_2019_CLASSES.every((k) => c.has(k)))),
    id: ['isic_id', 'image_name', 'image'],
    label: ['diagnosis', 'diagnosis_3', 'diagnosis_1', 'benign_malignant', 'target'],
    oneHot: ISIC_2019_CLASSES,
    patient: ['patient_id'],
    lesion: ['lesion_id'],
    hints: {
      age_approx: AGE,
      sex: CATEGORY,
      anatom_site_general: CATEGORY,
      anatom_site_general_challenge: CATEGORY,
      fitzpatrick_skin_type: FITZPATRICK,
      clin_size_long_diam_mm: DIAMETER,
    },
  },
];

/** Share of rows a label column must fill to be preferred over the next candidate (ISIC 2020 'diagnosis' is mostly 'unknown'). */
const LABEL_FILL_MIN = 0.5;

/** A column's cells from the rows whose cell count matched the header: a short row's cells may sit in the wrong column. */
function column(table: CsvTable, name: string): string[] {
  const i = table.header.indexOf(name);
  return i < 0 ? [] : table.rows.filter((r) => !r.misaligned).map((r) => r.cells[i] ?? '');
}

/** Errors name how many columns a file has, never their text: a message must not quote a file's contents. */
function columnCount(table: CsvTable): string {
  return `${table.header.length} column${table.header.length === 1 ? '' : 's'}`;
}

function requireColumn(table: CsvTable, name: string, what: string, file: string): string {
  if (!table.header.includes(name)) {
    throw new DermFuseError('COLUMN_NOT_FOUND', `${file} has no column "${name}" (${what}); it has ${columnCount(table)} (the import preview lists them).`);
  }
  return name;
}

/** Works out which columns hold the id, label, patient, lesion and metadata fields, and each field's type. */
export function mapColumns(table: CsvTable, file: string, opts: MappingOptions = {}): ColumnMapping {
  const cols = new Set(table.header);
  const wanted = opts.preset ?? 'auto';
  let def: PresetDef | undefined;
  if (wanted === 'auto') def = PRESETS.find((p) => p.recognise(cols));
  else if (wanted !== 'generic') {
    def = PRESETS.find((p) => p.name === wanted);
    if (def && !def.recognise(cols) && !opts.idColumn) {
      throw new DermFuseError(
        'PRESET_UNRECOGNISED',
        `${file} does not look like ${wanted} (it has ${columnCount(table)}). Choose the preset "auto", or say which column holds the image id.`,
      );
    }
  }
  if (!def && !opts.idColumn) {
    throw new DermFuseError(
      'PRESET_UNRECOGNISED',
      `${file}: the column layout matches no preset (ISIC, HAM10000, PAD-UFES-20); it has ${columnCount(table)}. Say which column holds the image id (and, if there are, the label, patient and lesion).`,
    );
  }
  const pick = (cands: string[] | undefined): string | null => cands?.find((c) => cols.has(c)) ?? null;
  const id = opts.idColumn ? requireColumn(table, opts.idColumn, 'image id', file) : pick(def!.id)!;
  let label: string | null = null;
  let oneHot: string[] | null = null;
  if (opts.labelColumn) label = requireColumn(table, opts.labelColumn, 'label', file);
  else if (def && !opts.exactRoles) {
    const present = def.label.filter((c) => cols.has(c));
    label =
      present.find((c) => {
        const cells = column(table, c);
        return cells.filter((v) => !isMissing(v)).length >= LABEL_FILL_MIN * cells.length;
      }) ??
      present[0] ??
      null;
    if (!label && def.oneHot?.every((c) => cols.has(c))) oneHot = def.oneHot;
  }
  // A column the preset would choose but the user set aside stays out.
  const kept = (c: string | null) => (c !== null && opts.ignore?.includes(c) ? null : c);
  label = kept(label);
  const guess = (cands: string[] | undefined) => (opts.exactRoles ? null : pick(cands));
  const patient = kept(opts.patientColumn ? requireColumn(table, opts.patientColumn, 'patient id', file) : guess(def?.patient));
  const lesion = kept(opts.lesionColumn ? requireColumn(table, opts.lesionColumn, 'lesion id', file) : guess(def?.lesion));
  // The labels are not an id: a column cannot be both (the ids would become classes, or the classes groups).
  for (const [other, role] of [
    [id, 'image id'],
    [patient, 'patient id'],
    [lesion, 'lesion id'],
  ] as const) {
    if (label !== null && label === other)
      throw new DermFuseError('INVALID_ARGUMENT', `Column "${label}" cannot be both the label and the ${role}: choose another column for one of them.`);
  }

  const roles = new Set([id, label, patient, lesion, ...(oneHot ?? [])].filter((c): c is string => c !== null));
  // Label candidates that were not chosen (benign_malignant beside diagnosis) stay as fields.
  for (const [name] of Object.entries(opts.types ?? {})) requireColumn(table, name, 'type override', file);
  for (const name of [...Object.keys(opts.fieldMap ?? {}), ...(opts.ignore ?? [])]) requireColumn(table, name, 'column mapping', file);
  const ignored = new Set(opts.ignore ?? []);
  const fields: MappedField[] = table.header
    .filter((c) => !roles.has(c) && !ignored.has(c))
    .map((col) => {
      const cells = column(table, col);
      const hint = def?.hints[col] ?? {};
      const type = opts.types?.[col] ?? hint.type ?? inferType(col, cells);
      const seen = levelsOf(type, cells);
      const allowedValues = type === 'ordinal' && hint.levels && !opts.types?.[col] ? mergeLevels(hint.levels, seen ?? []) : seen;
      const name = opts.fieldMap?.[col]?.trim() || col;
      return { name, column: col, type, allowedValues, unit: hint.unit ?? null, min: hint.min ?? null, max: hint.max ?? null };
    });
  const byName = new Map<string, string>();
  for (const f of fields) {
    const other = byName.get(f.name);
    if (other !== undefined) {
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `Columns "${other}" and "${f.column}" would both go to the field "${f.name}": map one of them elsewhere or ignore it.`,
      );
    }
    byName.set(f.name, f.column);
  }
  return {
    preset: def?.name ?? 'generic',
    id,
    label,
    oneHotLabels: oneHot,
    labelSet: label ?? (oneHot ? 'diagnosis' : null),
    patient,
    lesion,
    fields,
  };
}

function mergeLevels(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort((x, y) => Number(x) - Number(y));
}

/** The label a row gives, or null: from the label column, or from the one-hot column holding 1. */
export function rowLabel(mapping: ColumnMapping, header: string[], cells: string[]): string | null {
  if (mapping.label) {
    const v = cells[header.indexOf(mapping.label)] ?? '';
    return isMissing(v) ? null : v.trim();
  }
  if (mapping.oneHotLabels) {
    const hot = mapping.oneHotLabels.filter((c) => Number(cells[header.indexOf(c)]) === 1);
    return hot.length === 1 ? hot[0]! : null;
  }
  return null;
}
