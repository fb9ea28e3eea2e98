import type { RequestOf } from '../../../shared/api.ts';
import type { FieldType, ImportPreview } from '../../../shared/types.ts';

/** What a CSV column becomes: one of the four roles, a field (existing or new, by its name), or nothing. */
export type ColumnRole = 'id' | 'label' | 'patient' | 'lesion' | 'ignore' | `field:${string}`;
export const SINGLE_ROLES = ['id', 'label', 'patient', 'lesion'] as const;
export const ROLE_NAMES: Record<(typeof SINGLE_ROLES)[number] | 'ignore', string> = {
  id: 'Image id',
  label: 'Label',
  patient: 'Patient id',
  lesion: 'Lesion id',
  ignore: 'Ignore',
};

export interface Mapping {
  roles: Record<string, ColumnRole>;
  types: Record<string, FieldType>;
  /** The label set the user chose; null: the server chooses (again on every preview, as the label column changes). */
  labelSet: string | null;
}

type PlanRequest = RequestOf<'import.plan'>;

/** The mapping the preview worked out, with each proposed field match taken as the column's default. */
export function mappingFromPreview(p: ImportPreview): Mapping {
  const m = p.mapping;
  // No preset fitted: every column a new field until the user says which is the id (and the rest).
  const roles: Record<string, ColumnRole> = Object.fromEntries(p.header.map((c) => [c, (m ? 'ignore' : `field:${c}`) as ColumnRole]));
  if (m) {
    for (const r of SINGLE_ROLES) {
      const col = m[r];
      if (col && roles[col] !== undefined) roles[col] = r;
    }
  } else {
    // No preset: the columns whose values name the photos, are the project's classes, or whose names say patient or lesion.
    for (const r of p.roleMatches) if (roles[r.column] !== undefined) roles[r.column] = r.role;
  }
  for (const c of p.columns) roles[c.column] = `field:${c.field}`;
  for (const f of p.fieldMatches) roles[f.column] = `field:${f.field}`;
  // The set the preview chose is not kept: another label column must be matched afresh, not added to this set.
  return { roles, types: {}, labelSet: null };
}

/** Gives a column a role; a single role (id, label, patient, lesion) or a field another column had is taken from it. */
export function assign(m: Mapping, column: string, role: ColumnRole): Mapping {
  const roles = { ...m.roles };
  for (const [c, r] of Object.entries(roles)) if (c !== column && r === role) roles[c] = r.startsWith('field:') ? `field:${c}` : 'ignore';
  roles[column] = role;
  return { ...m, roles };
}

/** The import request a mapping makes: every column's fate explicit, so the preview and the import do the same. */
export function requestOf(base: Pick<PlanRequest, 'imagesDir' | 'metadataPath' | 'preset'>, m: Mapping | null): PlanRequest {
  if (!m) return base;
  const cols = Object.entries(m.roles);
  const one = (role: ColumnRole) => cols.find(([, r]) => r === role)?.[0];
  const fields = cols.filter(([, r]) => r.startsWith('field:'));
  return {
    ...base,
    idColumn: one('id'),
    labelColumn: one('label'),
    patientColumn: one('patient'),
    lesionColumn: one('lesion'),
    fieldMap: Object.fromEntries(fields.filter(([c, r]) => r.slice(6) !== c).map(([c, r]) => [c, r.slice(6)])),
    ignore: cols.filter(([, r]) => r === 'ignore').map(([c]) => c),
    types: Object.fromEntries(Object.entries(m.types).filter(([c]) => m.roles[c]?.startsWith('field:'))),
    labelSet: m.labelSet ?? undefined,
    exactRoles: true,
  };
}

/**
 * Why Import cannot start yet, in words for the screen; null when it can. A column whose values are the project's
 * classes must be the label or be ignored on purpose: stored as a plain field, the labels would be lost.
 */
export function notReady(m: Mapping | null, hasCsv: boolean, preview: Pick<ImportPreview, 'roleMatches'> | null = null): string | null {
  if (!hasCsv) return null;
  if (!m) return 'Preview first: the columns are mapped from the CSV’s header.';
  if (!Object.values(m.roles).includes('id')) return 'Choose which column holds the image id (the file name without its extension).';
  const classes = preview?.roleMatches.find((r) => r.role === 'label' && r.by === 'values');
  if (classes && !Object.values(m.roles).includes('label') && m.roles[classes.column] !== 'ignore')
    return `Column “${classes.column}” holds labels (${classes.reason}): map it as Label, or set it to Ignore.`;
  return null;
}
