import type { ValidationPlan, ValidationSource } from '../../shared/validation.ts';
import { repoOf } from '../db/open.ts';
import { FieldsRepo } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import { loadRunData } from '../ml/fusion/runData.ts';
import { parseRun } from '../ml/fusion/runRow.ts';
import { runModels } from '../ml/fusion/runs.ts';
import type { Project } from '../project.ts';
import { openExternal, readExternal } from './externalSet.ts';
import { readFolderTable, type ExternalTable } from './folderTable.ts';
import { scratchFolder } from './validateRun.ts';

/** Values listed per field at most: a form shows a dropdown per value, and a free-text field has thousands. */
const MAX_VALUES = 50;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * What the Validate form needs before anything runs: the run's classes and fields (with the values it was trained
 * on) beside the external set's classes and fields (with their values and counts), and maps filled in where the
 * names match, ignoring case.
 */
export async function validationPlan(project: Project, runId: number, source: ValidationSource): Promise<ValidationPlan> {
  const d = loadRunData(project, runId);
  const encoder = runModels(project, runId).encoder;
  const labelClasses = repoOf(project.db, LabelsRepo).classNamesOf(d.labelSetId);
  const fieldsRepo = repoOf(project.db, FieldsRepo);
  const fields = d.result.fieldsUsed.map((name, j) => {
    const e = encoder.fields[j];
    return { name, type: fieldsRepo.get(name)?.type ?? 'text', values: e?.kind === 'category' ? e.values : e?.kind === 'boolean' ? ['true', 'false'] : null };
  });
  const ext = await externalTable(project, source, parseRun(d.row).snap.labelSet);
  const classCounts = new Map<string, number>();
  for (const label of ext.labels) classCounts.set(label, (classCounts.get(label) ?? 0) + 1);
  const classes = [...classCounts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
  const extFields = ext.fields.map((f, j) => {
    const values = ext.meta.map((r) => r[j] ?? null);
    const counts = new Map<string, number>();
    for (const v of values) if (v !== null) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    const listed = f.type !== 'number' && f.type !== 'text' && counts.size <= MAX_VALUES;
    return {
      name: f.name,
      type: f.type,
      values: listed ? [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => (a.value < b.value ? -1 : 1)) : null,
      missing: values.filter((v) => v === null).length,
    };
  });
  const target = d.cfg.positive ? labelClasses : d.classes;
  const classMap = Object.fromEntries(classes.flatMap((c) => target.filter((t) => same(t, c.name)).map((t) => [c.name, t])));
  const fieldMap = Object.fromEntries(ext.fields.flatMap((f) => fields.filter((r) => same(r.name, f.name)).map((r) => [f.name, r.name])));
  return {
    run: { runId, task: d.classes.length === 2 ? 'binary' : 'multiclass', classes: d.classes, positive: d.cfg.positive, labelClasses, fields },
    external: { images: ext.labels.length, classes, fields: extFields },
    suggested: {
      classMap,
      fieldMap,
      positive: d.cfg.positive ? classes.filter((c) => d.cfg.positive!.some((p) => same(p, c.name))).map((c) => c.name) : null,
    },
  };
}

/**
 * The external set's labels and fields: another project's as stored; a folder's from its CSV and the listing of its
 * files (importing and decoding the photos is the validation job's work, with progress and cancel).
 */
async function externalTable(project: Project, source: ValidationSource, runLabelSet: string): Promise<ExternalTable> {
  if (source.kind === 'folder') return readFolderTable(source, project.dir);
  const { project: other, description } = await openExternal(source, scratchFolder(project));
  try {
    const ext = readExternal(other, description, runLabelSet, source.labelSet);
    return { labels: ext.images.map((i) => i.label), fields: ext.fields, meta: ext.meta, description };
  } finally {
    other.close();
  }
}
