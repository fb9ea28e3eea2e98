import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import { MODES } from '../../shared/results.ts';
import { ValidationMapsSchema, type ValidationMaps, type ValidationReport, type ValidationSource } from '../../shared/validation.ts';
import { writeOutputFile } from '../files/write.ts';
import { getValidation, listValidations, validationCsv } from '../validation/stored.ts';
import { listFlag, optionalString, parseFlags, parsePairs, positiveInt, requireString, UsageError, type Options } from './args.ts';
import { withProject, type Command } from './commands.ts';

const f3 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
const iv = (x: { value: number | null; ci: [number | null, number | null] }) => `${f3(x.value)} [${f3(x.ci[0])}, ${f3(x.ci[1])}]`;

/** "gender:female=FEMALE,male=MALE,region:arm=ARM": a field prefix applies to the pairs after it. */
export function parseValueMap(spec: string | undefined): ValidationMaps['valueMap'] {
  if (!spec) return undefined;
  const out: Record<string, Record<string, string>> = {};
  let field: string | null = null;
  for (const raw of spec.split(',')) {
    const colon = raw.indexOf(':');
    const eq = raw.indexOf('=');
    let pair = raw;
    if (colon >= 0 && (eq < 0 || colon < eq)) {
      field = raw.slice(0, colon).trim();
      pair = raw.slice(colon + 1);
    }
    if (!field) throw new DermFuseError('INVALID_ARGUMENT', `--map-value: "${raw}" should be FIELD:VALUE=KNOWN (start with the field's name and a colon)`);
    Object.assign((out[field] ??= {}), parsePairs(pair, '--map-value', 'FIELD:VALUE=KNOWN', true));
  }
  return out;
}

/** The report as text: the three modes side by side with the run's own figures, the fields, the shift. */
export function validationText(r: ValidationReport): string {
  const lines = [
    `External validation of run ${r.runId} on ${r.source.description}: ${r.images} images of ${r.groups} patients`,
    `  classes: ${r.classMap.map((c) => `${c.external} (${c.count}) → ${c.run ?? 'left out'}`).join(', ')}`,
    `  features: ${r.features.cached} cached in the other project, ${r.features.computed} computed, ${r.features.failed} failed`,
    `  mode       internal AUC            external AUC            difference               external balanced accuracy`,
  ];
  for (const m of MODES) {
    const i = r.internal?.[m];
    const d = r.difference?.[m];
    lines.push(
      `  ${m.padEnd(10)} ${(i ? iv(i.auc) : '–').padEnd(23)} ${iv(r.modes[m].auc).padEnd(23)} ${(d ? iv(d.auc) : '–').padEnd(24)} ${iv(r.modes[m].balancedAccuracy)}`,
    );
  }
  for (const f of r.fields)
    lines.push(
      f.from === null
        ? `  field ${f.field}: absent in the external set, imputed as ${f.imputed}${f.costAuc === null ? '' : ` (on the run's images this costs the fused model ${f3(-f.costAuc)} AUC)`}`
        : `  field ${f.field}: read from "${f.from}"`,
    );
  for (const s of r.shift.fields) {
    const what = s.numbers
      ? `mean ${f3(s.numbers.train.mean)} → ${f3(s.numbers.external.mean)}, SMD ${f3(s.numbers.smd)}`
      : s.shares
        ? s.shares.map((x) => `${x.value} ${Math.round(100 * x.train)}%→${Math.round(100 * x.external)}%`).join(' ')
        : '';
    lines.push(
      `  shift ${s.field}: ${s.level}; ${what}${s.psi === null ? '' : `, PSI ${f3(s.psi)}`}; missing ${Math.round(100 * s.missing.train)}% → ${Math.round(100 * s.missing.external)}%`,
    );
  }
  const im = r.shift.images;
  if (im)
    lines.push(
      `  image shift: training vs external told apart with AUC ${iv(im.auc)} (0.5 = indistinguishable); least like any training image: ${im.leastLike
        .slice(0, 3)
        .map((x) => `${x.externalId} (${f3(x.similarity)})`)
        .join(', ')}`,
    );
  const p = r.shift.prevalence;
  if (p) {
    const op = r.modes.fused.operating!;
    lines.push(
      `  prevalence ${f3(p.train)} → ${f3(p.external)}: fused PPV ${f3(p.modes.fused.internal.ppv)} internally, ${f3(p.modes.fused.internalAtExternalPrevalence.ppv)} expected at the external prevalence, ${f3(op.ppv)} observed (NPV ${f3(p.modes.fused.internal.npv)}, ${f3(p.modes.fused.internalAtExternalPrevalence.npv)}, ${f3(op.npv)})`,
    );
  }
  if (r.subgroups.summary) lines.push(`  ${r.subgroups.summary}`);
  const rc = r.recalibration;
  if (rc) {
    lines.push(
      `  recalibration (apart from the figures above): Platt fitted on ${rc.fit.images} images of ${rc.fit.groups} patients, judged on the other ${rc.heldOut.images} images of ${rc.heldOut.groups} patients`,
    );
    for (const m of MODES) {
      const x = rc.modes[m];
      lines.push(
        `    ${m.padEnd(10)} ECE ${f3(x.before.calibrationError)} → ${f3(x.after.calibrationError)}, Brier ${f3(x.before.brier)} → ${f3(x.after.brier)}, AUC ${f3(x.before.auc)} → ${f3(x.after.auc)} (slope ${f3(x.slope)}, intercept ${f3(x.intercept)})`,
      );
    }
  }
  const issues = r.labelIssues ?? [];
  if (issues.length > 0) lines.push(`  likely label errors (${issues.length}, most suspect first; p of the given label: image / metadata / fused):`);
  for (const x of issues.slice(0, 10))
    lines.push(
      `    ${x.externalId}: labelled ${x.label} (${x.truth}), the model says ${x.suggested}; p ${f3(x.pLabel.image)} / ${f3(x.pLabel.metadata)} / ${f3(x.pLabel.fused)}`,
    );
  lines.push(...r.warnings.map((w) => `  WARNING ${w}`));
  return lines.join('\n');
}

const MAP_FLAGS = ['positive', 'map-class', 'map-field', 'map-value', 'absent-field'];
/** Flags that each take one text value. */
const textOptions = (...names: string[]): Options => Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));

function readMaps(v: Record<string, string | boolean | undefined>): ValidationMaps {
  return parseFlags(
    ValidationMapsSchema,
    {
      positive: listFlag(optionalString(v, 'positive')),
      classMap: parsePairs(optionalString(v, 'map-class'), '--map-class', 'EXTERNAL=RUN_CLASS', true),
      fieldMap: parsePairs(optionalString(v, 'map-field'), '--map-field', 'EXTERNAL=RUN_FIELD'),
      valueMap: parseValueMap(optionalString(v, 'map-value')),
      absent: listFlag(optionalString(v, 'absent-field')),
    },
    { classMap: 'map-class', fieldMap: 'map-field', valueMap: 'map-value', absent: 'absent-field' },
  );
}

/** --recalibrate: the share of external patients the recalibration is fitted on, strictly between 0 and 1. */
function fraction(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (!(x > 0 && x < 1)) throw new UsageError(`--recalibrate "${raw}": give the share of external patients to fit on, between 0 and 1 (e.g. 0.3)`);
  return x;
}

async function output(report: ValidationReport, out: string | undefined): Promise<void> {
  if (!out) return;
  const data = out.toLowerCase().endsWith('.json') ? JSON.stringify(report, null, 2) + '\n' : validationCsv(report);
  await writeOutputFile(out, Buffer.from(data));
}

export const VALIDATE_COMMANDS: Record<string, Command> = {
  validate: {
    usage:
      'dermfuse validate DIR --run ID (--on OTHER_DIR [--label-set SET] | --images PATH --metadata CSV) | dermfuse validate --bundle B --images PATH --metadata CSV; [--id-column C --label-column C --patient-column C] [--positive A,B] [--map-class "ext=RUN,..."] [--map-field "ext=run,..."] [--map-value "field:ext=RUN,..."] [--absent-field F,...] [--recalibrate FRACTION] [--include-training-photos] [--out FILE.csv|FILE.json] [--json]',
    summary: 'a run or a bundle on a second labelled set: the three models side by side with the internal figures, and what shifted',
    options: {
      'include-training-photos': { type: 'boolean' },
      ...textOptions(
        'run',
        'on',
        'bundle',
        'images',
        'metadata',
        'label-set',
        'id-column',
        'label-column',
        'patient-column',
        'out',
        'recalibrate',
        ...MAP_FLAGS,
      ),
    },
    positionals: [],
    async run(v, args, ctx) {
      const maps = readMaps(v);
      const recalibrate = fraction(optionalString(v, 'recalibrate'));
      const images = optionalString(v, 'images');
      const metadata = optionalString(v, 'metadata');
      const on = optionalString(v, 'on');
      const folder = (): Extract<ValidationSource, { kind: 'folder' }> => {
        if (!images || !metadata) throw new UsageError('--images and --metadata name the external photos and their CSV');
        return {
          kind: 'folder',
          imagesDir: images,
          metadataPath: metadata,
          idColumn: optionalString(v, 'id-column'),
          labelColumn: optionalString(v, 'label-column'),
          patientColumn: optionalString(v, 'patient-column'),
        };
      };
      const progress = (p: { phase: string; done: number; total: number; message?: string }) =>
        ctx.progress(`${p.phase}: ${p.done}/${p.total} ${p.message ?? ''}`);
      const bundle = optionalString(v, 'bundle');
      if (bundle) {
        if (args.length > 0 || v.run || on) throw new UsageError('--bundle validates a bundle on --images and --metadata; give no project, --run or --on');
        const { validateBundle } = await import('../validation/validateBundle.ts');
        const report = await validateBundle(bundle, folder(), maps, { signal: ctx.signal, onProgress: progress, recalibrate });
        await output(report, optionalString(v, 'out'));
        return { json: report, text: validationText(report) };
      }
      const dir = args[0];
      if (!dir) throw new UsageError("missing DIR (the run's project), or give --bundle");
      const runId = positiveInt(requireString(v, 'run'), 'run')!;
      if (on && images) throw new UsageError('give --on OTHER_DIR or --images with --metadata, not both');
      const source: ValidationSource = on ? { kind: 'project', dir: path.resolve(on), labelSet: optionalString(v, 'label-set') } : folder();
      const { validateRun } = await import('../validation/validateRun.ts');
      return withProject(dir, async (project) => {
        // Photos of the run's own training set are left out of the figures unless asked for (the report names them).
        const includeTrainingPhotos = v['include-training-photos'] === true || undefined;
        const { id, report } = await validateRun(
          project,
          { runId, source, ...maps, recalibrate, includeTrainingPhotos },
          { signal: ctx.signal, onProgress: progress },
        );
        await output(report, optionalString(v, 'out'));
        return { json: { id, ...report }, text: `Validation ${id} stored with run ${runId}.\n${validationText(report)}` };
      });
    },
  },
  validations: {
    usage: 'dermfuse validations DIR --run ID | --id N [--out FILE.csv|FILE.json] [--json]',
    summary: 'the stored external validations of a run, or one of them (exported as CSV or JSON)',
    options: textOptions('run', 'id', 'out'),
    positionals: ['DIR'],
    async run(v, [dir]) {
      return withProject(dir!, async (project) => {
        const id = positiveInt(optionalString(v, 'id'), 'id');
        if (id !== undefined) {
          const report = getValidation(project, id);
          await output(report, optionalString(v, 'out'));
          return { json: report, text: validationText(report) };
        }
        const list = listValidations(project, positiveInt(requireString(v, 'run'), 'run')!);
        const text = list
          .map((x) => `#${x.id} ${x.createdAt} ${x.source}: ${x.images} images, fused AUC ${iv(x.modes.fused.auc)}, image shift AUC ${f3(x.imageShiftAuc)}`)
          .join('\n');
        return { json: { validations: list }, text: text || 'No validations of this run yet.' };
      });
    },
  },
};
