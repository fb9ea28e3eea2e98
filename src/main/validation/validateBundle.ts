import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import { MODES } from '../../shared/results.ts';
import type { ValidationMaps, ValidationReport, ValidationSource } from '../../shared/validation.ts';
import { loadBundle } from '../ml/bundle/loadBundle.ts';
import { scoreImages } from '../ml/bundle/score.ts';
import { externalGrouping, IMAGE_LEVEL_WARNING, importProblemsWarning, openExternal, readExternal } from './externalSet.ts';
import { mapExternal } from './mapping.ts';
import { imputedAs, scoreExternal, type ValidateOptions } from './validateRun.ts';

/**
 * Validates an exported bundle on an image folder with its CSV, without the project it came from: the same figures
 * and per-image rows as a run's validation, the bundle's own internal figures where it carries them. The training
 * side of the shift (the run's images and metadata) is not in a bundle: validate the run for it.
 */
export async function validateBundle(
  bundleDir: string,
  source: Extract<ValidationSource, { kind: 'folder' }>,
  maps: ValidationMaps,
  opts: ValidateOptions = {},
): Promise<ValidationReport> {
  const bundle = await loadBundle(bundleDir);
  const { pre, models } = bundle;
  if (pre.mode !== 'fused' && !(pre.mode === 'image' && models.fusion.kind === 'late'))
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `Bundle ${bundle.dir} holds the ${pre.mode} model only; validation compares all three: export the run with --mode fused and validate that bundle.`,
    );
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-validate-'));
  try {
    const { project, description, problems } = await openExternal(source, scratch, opts);
    try {
      const ext = readExternal(project, description, pre.label);
      const runFields = pre.fields;
      const mapped = mapExternal(
        { classes: pre.classes, positive: pre.positive, labelClasses: pre.labelClasses ?? pre.positive ?? [], fields: runFields, encoder: models.encoder },
        { labels: ext.images.map((i) => i.label), fields: ext.fields, meta: ext.meta },
        maps,
      );
      const kept = mapped.keep.map((i) => ext.images[i]!);
      const meta = mapped.meta;
      // Embedded with the bundle's backbone exactly as predict embeds; every mode then reads the same vectors.
      const scoredFiles = await scoreImages(
        bundle,
        kept.map((i) => ({ id: i.external_id, path: i.path })),
        meta,
        opts,
      );
      const ok = kept.map((_, r) => r).filter((r) => scoredFiles.rows[r]!.error === null);
      if (ok.length === 0) throw new DermFuseError('INVALID_VALUE', `${description}: no external image could be embedded.`);
      const dim = scoredFiles.dim;
      const vectors = new Float32Array(ok.length * dim);
      ok.forEach((r, q) => vectors.set(scoredFiles.vectors.subarray(r * dim, (r + 1) * dim), q * dim));
      const pick = <T>(xs: ArrayLike<T>) => ok.map((r) => xs[r]!);
      const images = pick(kept);
      const labels = Int32Array.from(pick(mapped.truth));
      const grouping = externalGrouping(images);
      const scored = scoreExternal(
        models,
        pre.classes,
        {
          images,
          labels,
          meta: pick(meta),
          vectors,
          extFields: ext.fields,
          extMeta: pick(mapped.keep.map((i) => ext.meta[i]!)),
          from: mapped.from,
          runFields,
        },
        1,
        opts.recalibrate,
      );
      const internal = pre.internal
        ? (Object.fromEntries(
            MODES.map((m) => {
              const r = pre.internal![m];
              return [m, { auc: { value: r.auc, ci: r.aucCI }, balancedAccuracy: { value: r.balancedAccuracy, ci: r.balancedAccuracyCI } }];
            }),
          ) as NonNullable<ValidationReport['internal']>)
        : null;
      return {
        runId: bundle.manifest.runId,
        createdAt: new Date().toISOString(),
        source: { kind: 'bundle', description: `bundle ${bundle.dir} on ${description}` },
        task: pre.classes.length === 2 ? 'binary' : 'multiclass',
        classes: pre.classes,
        images: ok.length,
        groups: new Set(scored.extSet.groups).size,
        classMap: mapped.classMap,
        fields: runFields.map((f, j) => ({
          field: f.name,
          from: mapped.from[j] ?? null,
          imputed: mapped.from[j] === null ? imputedAs(models, j) : null,
          costAuc: null,
        })),
        modes: scored.modes,
        internal,
        difference: null,
        shift: { fields: [], images: null, prevalence: null },
        subgroups: scored.subgroups,
        recalibration: scored.recalibration,
        labelIssues: scored.labelIssues,
        grouping,
        features: { cached: 0, computed: ok.length, failed: kept.length - ok.length },
        warnings: [
          'A bundle carries no training images or metadata: the shift panel (fields, images, prevalence) and the difference from the internal figures need the run (dermfuse validate DIR --run ID).',
          ...importProblemsWarning(problems),
          ...(grouping === 'image' ? [IMAGE_LEVEL_WARNING] : []),
          ...kept.flatMap((img, r) => (scoredFiles.rows[r]!.error ? [`${img.external_id}: ${scoredFiles.rows[r]!.error}; left out`] : [])),
        ],
        rows: scored.rows,
      };
    } finally {
      project.close();
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
