import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import { FIELD_TYPES, type FieldType, type ImportSummary, type ProjectInfo } from '../../shared/types.ts';
import { ImportRequestSchema } from '../../shared/api.ts';
import { exportCsv, exportLabelsLong } from '../images/exportCsv.ts';
import { planImport } from '../images/importPlan.ts';
import { projectSchema } from '../images/importMatch.ts';
import { projectInfo } from '../images/info.ts';
import { relinkImages } from '../images/relink.ts';
import { Project } from '../project.ts';
import { listFlag, optionalString, parseFlags, parsePairs, requireString, type Options } from './args.ts';

export interface CommandContext {
  signal: AbortSignal;
  /** Progress lines for a person, on stderr; silent when not wanted. */
  progress(line: string): void;
}

export interface Command {
  usage: string;
  summary: string;
  options: Options;
  positionals: string[];
  /** Resolves to what to print, or null when the command printed its own output (serve prints its URL at once). */
  run(values: Record<string, string | boolean | undefined>, args: string[], ctx: CommandContext): Promise<{ json: object; text: string } | null>;
}

function parseTypes(spec: string | undefined): Record<string, FieldType> | undefined {
  if (!spec) return undefined;
  const out: Record<string, FieldType> = {};
  for (const pair of spec.split(',')) {
    const [name, type] = pair.split('=').map((s) => s.trim());
    if (!name || !type || !(FIELD_TYPES as readonly string[]).includes(type)) {
      throw new DermFuseError('INVALID_ARGUMENT', `--types: "${pair}" should be FIELD=TYPE with TYPE one of ${FIELD_TYPES.join(', ')}`);
    }
    out[name] = type as FieldType;
  }
  return out;
}

/** Opens the project for one command and always closes it. */
export function withProject<T>(dir: string, fn: (p: Project) => Promise<T>): Promise<T> {
  const project = Project.open(dir);
  return fn(project).finally(() => project.close());
}

function describeImport(s: ImportSummary): string {
  const classes = Object.entries(s.classes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `Imported in ${s.seconds.toFixed(1)} s (preset ${s.preset ?? 'none'}):`,
    `  images: ${s.imagesAdded} added, ${s.imagesUpdated} updated, ${s.imagesUnchanged} unchanged, ${s.imagesRelinked} relinked, ${s.imagesFailed} failed`,
    `  metadata rows: ${s.rowsMatched} matched, ${s.rowsWithoutImage} without image; ${s.imagesWithoutRow} images without a row`,
    `  label "${s.label ?? '-'}": ${classes || 'none'}`,
    `  fields: ${s.fields.map((f) => `${f.name} (${f.type})`).join(', ') || 'none'}`,
  ];
  if (s.userEditsKept > 0) lines.push(`  ${s.userEditsKept} values edited in DermFuse were kept`);
  if (s.errors.length > 0) {
    lines.push(`  ${s.errors.length} problem(s):`);
    for (const e of s.errors.slice(0, 20))
      lines.push(`    ${e.source}${e.column ? `, column "${e.column}"` : ''}${e.value !== undefined ? `, value "${e.value}"` : ''}: ${e.message}`);
    if (s.errors.length > 20) lines.push(`    … and ${s.errors.length - 20} more (see --json)`);
  }
  return lines.join('\n');
}

function describeInfo(i: ProjectInfo): string {
  const classes = Object.entries(i.classes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `Project ${i.dir}`,
    `  ${i.images} images (${i.imagesFailed} unreadable), ${i.labelled} labelled, ${i.patients} patients, ${i.lesions} lesions`,
    `  label "${i.label ?? '-'}": ${classes || 'none'}`,
    `  fields: ${i.fields.map((f) => `${f.name} (${f.type})`).join(', ') || 'none'}`,
  ].join('\n');
}

export const COMMANDS: Record<string, Command> = {
  init: {
    usage: 'dermfuse init DIR [--json]',
    summary: 'create a project folder (opens it if it exists)',
    options: {},
    positionals: ['DIR'],
    async run(_v, [dir]) {
      const { project, created } = Project.create(dir!);
      const json = { dir: project.dir, created };
      project.close();
      return { json, text: `${created ? 'Created' : 'Already a project:'} ${json.dir}` };
    },
  },
  sample: {
    usage: 'dermfuse sample [DIR] [--json]',
    summary: 'create a project from the built-in PAD-UFES-20 sample (86 photos, 12 left to label); DIR defaults to ./dermfuse-sample',
    options: {},
    positionals: [],
    async run(_v, [dir], ctx) {
      const { createSampleProject, defaultSampleDir } = await import('../images/sample.ts');
      const s = await createSampleProject(dir ?? defaultSampleDir(), {
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(`${p.phase} ${p.done}/${p.total}`),
      });
      return {
        json: s,
        text: [
          `Created the sample project ${s.dir}: ${s.imagesAdded} photos of PAD-UFES-20 (CC BY 4.0, see SAMPLE-DATA-LICENCE.md), ${s.heldBack} diagnoses held back to label.`,
          `Next: dermfuse serve ${s.dir}   (or dermfuse extract ${s.dir} && dermfuse train ${s.dir} --label diagnostic --positive BCC,MEL,SCC)`,
        ].join('\n'),
      };
    },
  },
  import: {
    usage:
      'dermfuse import DIR --images PATH [--metadata CSV] [--preset auto|isic|ham10000|pad-ufes-20|generic]\n' +
      '        [--id-column C] [--label-column C] [--patient-column C] [--lesion-column C] [--types f=number,g=category]\n' +
      '        [--label-set NAME] [--map column=field,...] [--ignore column,...] [--new-fields column,...] [--json]',
    summary: 'import a folder of images and the metadata CSV that came with them',
    options: {
      images: { type: 'string' },
      metadata: { type: 'string' },
      preset: { type: 'string' },
      'id-column': { type: 'string' },
      'label-column': { type: 'string' },
      'patient-column': { type: 'string' },
      'lesion-column': { type: 'string' },
      types: { type: 'string' },
      'label-set': { type: 'string' },
      map: { type: 'string' },
      ignore: { type: 'string' },
      'new-fields': { type: 'string' },
    },
    positionals: ['DIR'],
    async run(v, [dir], ctx) {
      const list = (flag: string) => listFlag(optionalString(v, flag)) as string[] | undefined;
      const req = parseFlags(
        ImportRequestSchema,
        {
          imagesDir: optionalString(v, 'images'),
          metadataPath: optionalString(v, 'metadata'),
          preset: optionalString(v, 'preset'),
          idColumn: optionalString(v, 'id-column'),
          labelColumn: optionalString(v, 'label-column'),
          patientColumn: optionalString(v, 'patient-column'),
          lesionColumn: optionalString(v, 'lesion-column'),
          labelSet: optionalString(v, 'label-set'),
          fieldMap: parsePairs(optionalString(v, 'map'), '--map', 'COLUMN=FIELD'),
          ignore: list('ignore'),
        },
        { imagesDir: 'images', metadataPath: 'metadata', labelSet: 'label-set', fieldMap: 'map', ignore: 'ignore' },
      );
      return withProject(dir!, async (project) => {
        const plan = await planImport({ ...req, preset: req.preset ?? 'auto', types: parseTypes(optionalString(v, 'types')) }, project.dir, {
          schema: projectSchema(project.db),
        }).catch((err: unknown) => {
          // The screen's wording asks to choose columns; here that is done with flags.
          if (err instanceof DermFuseError && err.code === 'PRESET_UNRECOGNISED')
            throw new DermFuseError(err.code, `${err.message} Flags: --preset generic --id-column C [--label-column C --patient-column C --lesion-column C].`);
          throw err;
        });
        // A column that looks like a field the project has is never added beside it unasked: the screen proposes the
        // match; here the person says which it is before anything is written.
        const confirmed = new Set(list('new-fields'));
        const open = plan.fieldMatches.filter((m) => !confirmed.has(m.column));
        if (open.length > 0)
          throw new DermFuseError(
            'INVALID_ARGUMENT',
            `Nothing imported: ${open.map((m) => `column "${m.column}" looks like the project's field "${m.field}" (${m.reason})`).join('; ')}. ` +
              `Say which each is: --map ${open.map((m) => `${m.column}=${m.field}`).join(',')} to read them into those fields, ` +
              `--new-fields ${open.map((m) => m.column).join(',')} to add them as new fields, or --ignore them.`,
          );
        const { runImport } = await import('../images/importRun.ts');
        const summary = await runImport(project, plan, {
          signal: ctx.signal,
          onProgress: (p) => ctx.progress(`import: ${p.done}/${p.total} images`),
        });
        const added = plan.fieldMatches.map((m) => `  column "${m.column}" was added as a new field beside "${m.field}", as --new-fields asked`);
        const into = plan.labelSet
          ? [`  labels went to ${plan.labelSet.isNew ? 'a new' : 'the existing'} label set "${plan.labelSet.name}": ${plan.labelSet.reason}`]
          : [];
        return {
          json: { ...summary, labelSet: plan.labelSet, fieldMatches: plan.fieldMatches },
          text: [describeImport(summary), ...into, ...added].join('\n'),
        };
      });
    },
  },
  info: {
    usage: 'dermfuse info DIR [--json]',
    summary: 'counts, classes and metadata fields of a project',
    options: {},
    positionals: ['DIR'],
    async run(_v, [dir]) {
      return withProject(dir!, async (project) => {
        const info = projectInfo(project);
        return { json: info, text: describeInfo(info) };
      });
    },
  },
  'export-csv': {
    usage: 'dermfuse export-csv DIR --out FILE [--long] [--json]',
    summary: "write current labels and metadata as CSV (--long: every annotator's latest label, one row each)",
    options: { out: { type: 'string' }, long: { type: 'boolean' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      const out = path.resolve(requireString(v, 'out'));
      return withProject(dir!, async (project) => {
        const r = v.long === true ? await exportLabelsLong(project, out) : await exportCsv(project, out);
        return { json: { out, ...r }, text: `Wrote ${r.rows} rows to ${out}` };
      });
    },
  },
  relink: {
    usage: 'dermfuse relink DIR --images PATH [--json]',
    summary: 'find moved image files by content hash and record their new paths',
    options: { images: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      return withProject(dir!, async (project) => {
        const r = await relinkImages(project, requireString(v, 'images'));
        return { json: r, text: `${r.relinked} of ${r.missing} missing images relinked; ${r.stillMissing.length} still missing` };
      });
    },
  },
};
