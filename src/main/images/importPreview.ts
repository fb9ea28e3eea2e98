import type { ImportPreview } from '../../shared/types.ts';
import type { ImportPlan } from './importPlan.ts';

/** The import screen lists this many problems; the count says how many there are in all. */
const PREVIEW_PROBLEMS = 200;

/** What the import screen shows before anything is written: the same plan the import job will run. */
export function previewOf(plan: ImportPlan): ImportPreview {
  const classes: Record<string, number> = {};
  const stems = new Set(plan.files.map((f) => f.stem));
  for (const r of plan.records.values()) if (r.label !== null && stems.has(r.id)) classes[r.label] = (classes[r.label] ?? 0) + 1;
  const m = plan.mapping;
  return {
    imagesDir: plan.imagesDir,
    metadataPath: plan.metadataPath,
    preset: m?.preset ?? null,
    header: plan.header,
    mapping: m
      ? {
          id: m.id,
          label: m.label ?? (m.oneHotLabels ? `one-hot: ${m.oneHotLabels.join(', ')}` : null),
          labelSet: m.labelSet,
          patient: m.patient,
          lesion: m.lesion,
          fields: m.fields,
        }
      : null,
    images: plan.files.length,
    rows: plan.records.size,
    rowsMatched: plan.rowsMatched,
    rowsWithoutImage: plan.rowsWithoutImage,
    imagesWithoutRow: plan.imagesWithoutRow,
    problems: plan.problems.slice(0, PREVIEW_PROBLEMS),
    problemCount: plan.problems.length,
    classes,
    labelSet: plan.labelSet,
    fieldMatches: plan.fieldMatches,
    roleMatches: plan.roleMatches,
    columns: (m?.fields ?? []).map((f) => ({ column: f.column, field: f.name, type: f.type, existing: plan.schemaFields.includes(f.name) })),
  };
}
