/**
 * An import into a project that already has labels and fields: the label column goes to the label set whose
 * classes its values are, and a column that looks like an existing field (by name or by values) is proposed for it,
 * so an import of one's own CSV does not leave its labels in a hidden set or its fields beside their twins.
 */
import type { FieldSpec, ImportLabelSetChoice, ImportFieldMatch } from '../../shared/types.ts';
import { FieldsRepo, toField } from '../db/repos/fieldsRepo.ts';
import { LabelSetsRepo } from '../db/repos/labelSetsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import { repoOf, type Db } from '../db/open.ts';

/** What the project holds already, as the import plan needs it (plain data: it travels to the preview worker). */
export interface ProjectSchema {
  labelSets: { name: string; classes: string[] }[];
  fields: FieldSpec[];
}

export function projectSchema(db: Db): ProjectSchema {
  const labels = repoOf(db, LabelsRepo);
  const sets = repoOf(db, LabelSetsRepo);
  return {
    labelSets: labels.setNames().map((name) => ({ name, classes: sets.activeClasses(labels.setNamed(name)!.id).map((c) => c.name) })),
    fields: repoOf(db, FieldsRepo).list().map(toField),
  };
}

/** A label value as a set spells it (classes compared without case), else as the CSV has it. */
export function classSpelling(classes: readonly string[], value: string): string {
  if (classes.includes(value)) return value;
  const lower = value.toLocaleLowerCase();
  return classes.find((c) => c.toLocaleLowerCase() === lower) ?? value;
}

/**
 * Most label values must be a set's classes for the labels to go there by themselves: one typo among the values
 * must not send every label to a new, hidden set, nor a column of something else (dx_type) into the diagnoses.
 */
const SHARE_TO_MATCH = 0.5;

/**
 * Where the labels go: the set asked for; else an existing set with the column's name; else the existing set that
 * has the largest share of the label values among its classes (compared without case; at least half of them, the
 * most classes shared first); else a new set named after the column. The choice names the values the set lacks,
 * which the import adds as classes.
 */
export function chooseLabelSet(schema: ProjectSchema, column: string, values: readonly string[], requested?: string): ImportLabelSetChoice {
  const existing = schema.labelSets.map((s) => s.name);
  const lacking = (name: string) => {
    const classes = schema.labelSets.find((s) => s.name === name)?.classes ?? [];
    return values.filter((v) => !classes.includes(classSpelling(classes, v)));
  };
  const choice = (name: string, reason: string): ImportLabelSetChoice => ({
    name,
    existing,
    isNew: !existing.includes(name),
    reason,
    newClasses: existing.includes(name) ? lacking(name) : [...values],
  });
  if (requested) return choice(requested, existing.includes(requested) ? 'chosen' : 'a new label set, as chosen');
  if (existing.includes(column)) return choice(column, `the label set has the column's name`);
  const share = (s: { classes: string[] }) => values.filter((v) => s.classes.includes(classSpelling(s.classes, v))).length / values.length;
  const fits = schema.labelSets
    .filter((s) => values.length > 0 && share(s) >= SHARE_TO_MATCH)
    .sort((a, b) => share(b) - share(a) || b.classes.length - a.classes.length);
  if (fits[0]) {
    const all = share(fits[0]) === 1;
    const shown = values.length <= 12 ? ` (${values.join(', ')})` : '';
    return choice(fits[0].name, all ? `every label value${shown} is one of its classes` : `most label values${shown} are its classes`);
  }
  return choice(column, existing.length > 0 ? 'its values are not the classes of an existing label set' : 'the project has no label set yet');
}

/** Names that mean the same field in the datasets people bring (HAM10000, ISIC, PAD-UFES-20 and home-made CSVs). */
const SYNONYMS: string[][] = [
  ['sex', 'gender'],
  ['site', 'region', 'localization', 'location', 'anatom_site_general', 'anatom_site_general_challenge', 'body_site'],
  ['fitzpatrick', 'fitspatrick', 'fitzpatrick_skin_type', 'skin_type', 'phototype'],
  ['age', 'age_approx'],
  ['diameter', 'diameter_mm', 'diameter_1', 'clin_size_long_diam_mm', 'size_mm'],
];
const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const synonymous = (a: string, b: string) => SYNONYMS.some((g) => g.some((x) => norm(x) === norm(a)) && g.some((x) => norm(x) === norm(b)));

/** Levenshtein distance, for near-identical names (fitzpatrick / fitspatrick). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

const numeric = (f: FieldSpec) => f.type === 'number' || f.type === 'ordinal';
/** Share of a column's values that the field already allows (categories compared without case). */
function valueOverlap(col: FieldSpec, field: FieldSpec): number {
  if (!col.allowedValues?.length || !field.allowedValues?.length) return 0;
  const known = new Set(field.allowedValues.map((v) => v.toLowerCase()));
  return col.allowedValues.filter((v) => known.has(v.toLowerCase())).length / col.allowedValues.length;
}

/**
 * For each new column, an existing field it most likely is: a synonym or a near-identical name of a compatible
 * type, or a category whose values are (nearly) all the field's values. Proposals only: the import screen shows
 * them as the column's default and the user may choose otherwise.
 */
export function matchFields(schema: ProjectSchema, columns: readonly FieldSpec[]): ImportFieldMatch[] {
  const out: ImportFieldMatch[] = [];
  const taken = new Set<string>();
  for (const col of columns) {
    if (schema.fields.some((f) => f.name === col.name)) continue;
    const compatible = (f: FieldSpec) => numeric(f) === numeric(col) || valueOverlap(col, f) > 0;
    const candidates = schema.fields.filter((f) => !taken.has(f.name) && !columns.some((c) => c.name === f.name) && compatible(f));
    const found =
      candidates.find((f) => synonymous(col.name, f.name)) ??
      candidates.find((f) => Math.min(norm(col.name).length, norm(f.name).length) >= 5 && distance(norm(col.name), norm(f.name)) <= 2) ??
      candidates.find((f) => f.type === 'category' && col.type === 'category' && (col.allowedValues?.length ?? 0) >= 2 && valueOverlap(col, f) >= 0.8);
    if (!found) continue;
    taken.add(found.name);
    const reason = synonymous(col.name, found.name)
      ? `same meaning as "${found.name}"`
      : distance(norm(col.name), norm(found.name)) <= 2
        ? `nearly the same name as "${found.name}"`
        : `same values as "${found.name}"`;
    out.push({ column: col.name, field: found.name, reason });
  }
  return out;
}
