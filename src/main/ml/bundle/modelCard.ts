import type { Mode } from '../fusion/crossval.ts';
import type { RunResult } from '../fusion/train.ts';
import { MODES, pClause, type SubgroupTable } from '../../../shared/results.ts';
import type { ValidationReport } from '../../../shared/validation.ts';
import { withoutPaths } from '../../../shared/redact.ts';

const f3 = (x: number | null) => (x === null || Number.isNaN(x) ? '–' : x.toFixed(3));

/** The model card: what the model is, what it was trained and measured on, and what it must not be used for. */
export function modelCard(r: RunResult, mode: Mode, subgroups: SubgroupTable, validations: readonly ValidationReport[] = []): string {
  const m = r.evaluation.modes[mode];
  const lines = [
    `# DermFuse model card — run ${r.runId}, ${mode} model`,
    '',
    '## Intended use',
    `Research and decision support: predicts **${r.task === 'binary' ? `${r.classes[1]} vs ${r.classes[0]}` : r.classes.join(', ')}** (label set "${r.label}") from a skin-lesion photo${mode === 'image' ? '' : ' and patient metadata'}.`,
    'It is not a medical device and was not validated prospectively. Do not use it to decide care on its own.',
    '',
    '## Data',
    `${r.images} images of ${r.groups} ${r.groupBy}s. Classes: ${Object.entries(
      r.evaluation.modes.fused.perClass.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.class]: c.support }), {}),
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    `Image features: ${r.backbone}. Metadata fields used: ${r.fieldsUsed.join(', ') || 'none'}.`,
    ...(r.fieldsExcluded.length ? ['', 'Fields left out:', ...r.fieldsExcluded.map((e) => `- ${e.field}: ${e.reason}`)] : []),
    '',
    '## Performance',
    `${r.folds}-fold cross-validation grouped by ${r.groupBy}; 95% intervals from ${r.groupBy}-level bootstrap.`,
    '',
    '| mode | ROC AUC | 95% CI | balanced accuracy |',
    '|---|---|---|---|',
    ...MODES.map((k) => {
      const x = r.evaluation.modes[k];
      return `| ${k}${k === mode ? ' (this model)' : ''} | ${f3(x.auc)} | ${f3(x.aucCI[0])}–${f3(x.aucCI[1])} | ${f3(x.balancedAccuracy)} |`;
    }),
    '',
    `Fused minus image-only AUC: ${f3(r.fusedVsImage.difference)} (95% CI ${f3(r.fusedVsImage.ci[0])}–${f3(r.fusedVsImage.ci[1])}, paired bootstrap ${pClause(r.fusedVsImage.p)}). Fusion: ${r.fusion}.`,
    m.sensitivityAtSpecificity ? `Sensitivity at 80/90/95% specificity: ${Object.values(m.sensitivityAtSpecificity).map(f3).join(' / ')}.` : '',
    `Brier score ${f3(m.brier)}, expected calibration error ${f3(m.calibrationError)}.`,
    '',
    ...importanceSection(r),
    ...subgroupSection(subgroups, mode),
    '',
    ...validationSection(validations, mode),
    '',
    '## Known limitations and warnings',
    ...r.leakage.map((w) => `- ${w.field}: ${w.message}${r.fieldsUsed.includes(w.field) ? ' (used by this model)' : ' (left out)'}`),
    ...(r.importance?.warning ? [`- ${r.importance.warning}`] : []),
    "- Performance was measured on the project's own images; other cameras, populations and skin types may differ.",
    `- Subgroups with fewer than ${subgroups.minN} images, or fewer than ${subgroups.minPerClass} of a class, have no figures ("too few").`,
  ];
  return lines.filter((l) => l !== undefined).join('\n') + '\n';
}

/** Every external validation of the run: data, date, this model's figures beside the internal ones, and the shift. */
function validationSection(vs: readonly ValidationReport[], mode: Mode): string[] {
  if (vs.length === 0)
    return [
      '## External validation',
      'None yet: the figures above are internal (cross-validated on the same data). Validate with `dermfuse validate DIR --run ID --on OTHER_DIR`.',
    ];
  const iv = (x: { value: number; ci: [number, number] } | null | undefined) => (x ? `${f3(x.value)} (${f3(x.ci[0])}–${f3(x.ci[1])})` : '–');
  return [
    '## External validation',
    `${vs.length} validation${vs.length > 1 ? 's' : ''} of this run on other data; 95% intervals from bootstrap resamples of patients (of images where the set named no patients).`,
    ...vs.flatMap((v) => {
      const shifted = v.shift.fields
        .filter((f) => f.level !== 'none')
        .map((f) => `${f.field} (${f.level}${f.numbers ? `, SMD ${f3(f.numbers.smd)}` : ''}${f.psi !== null ? `, PSI ${f3(f.psi)}` : ''})`);
      const absent = v.fields.filter((f) => f.from === null).map((f) => f.field);
      return [
        '',
        `### ${v.createdAt.slice(0, 10)}: ${withoutPaths(v.source.description)}`,
        `${v.images} images of ${v.grouping === 'image' ? `unknown patients (no patient column: intervals by image, possibly too narrow)` : `${v.groups} patients`}. Classes: ${v.classMap.map((c) => `${c.external} → ${c.run ?? 'left out'}`).join(', ')}.`,
        ...(v.trainingPhotos && v.trainingPhotos.count > 0
          ? [
              `${v.trainingPhotos.count} of the set's photos are photos this run was trained on: ${v.trainingPhotos.excluded ? 'left out of these figures' : 'INCLUDED in these figures, which are then optimistic'}.`,
            ]
          : []),
        '',
        '| mode | internal AUC | external AUC | difference | external balanced accuracy |',
        '|---|---|---|---|---|',
        ...MODES.map(
          (k) =>
            `| ${k}${k === mode ? ' (this model)' : ''} | ${iv(v.internal?.[k].auc)} | ${iv(v.modes[k].auc)} | ${iv(v.difference?.[k].auc)} | ${iv(v.modes[k].balancedAccuracy)} |`,
        ),
        '',
        `Fields shifted: ${shifted.join(', ') || 'none'}. ${absent.length ? `Absent externally and imputed as in training: ${absent.join(', ')}.` : ''}`,
        v.shift.images ? `Photos: training and external images told apart with AUC ${iv(v.shift.images.auc)} (0.5 = indistinguishable).` : '',
        v.shift.prevalence ? `Prevalence ${f3(v.shift.prevalence.train)} in training, ${f3(v.shift.prevalence.external)} externally.` : '',
      ];
    }),
  ];
}

/** Permutation importance of the fused model's blocks (runs trained before it was measured: a line saying so). */
function importanceSection(r: RunResult): string[] {
  const imp = r.importance;
  if (!imp) return ['## What the fused model relies on', 'Not measured for this run (trained before DermFuse measured it).', ''];
  return [
    '## What the fused model relies on (permutation importance)',
    `Each field and the image block shuffled among each fold's test images (${imp.repeats} times): the drop in the fused model's out-of-fold ROC AUC (${f3(imp.auc)}), with 95% intervals from ${imp.resamples} ${r.groupBy}-level bootstrap resamples.`,
    '',
    '| block | AUC drop | 95% CI | |',
    '|---|---|---|---|',
    ...imp.rows.map((x) => `| ${x.block} | ${f3(x.drop)} | ${f3(x.ci[0])}–${f3(x.ci[1])} | ${x.leakage ? 'leakage warning' : ''} |`),
    ...(imp.warning ? ['', `**Warning:** ${imp.warning}`] : []),
    '',
  ];
}

/** Per-subgroup figures of the exported mode, the largest gap per field, and which sliced fields the model did not use. */
function subgroupSection(t: SubgroupTable, mode: Mode): string[] {
  const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
  return [
    '## Subgroups (this model, out-of-fold)',
    t.notInModel.length
      ? `Sliced also by fields the model does not use as inputs (a valid way to look for its failures): ${t.notInModel.join(', ')}.`
      : 'Every sliced field is an input of the model.',
    ...(t.summary ? ['', t.summary] : []),
    '',
    '| field | group | n | positives | ROC AUC | 95% CI | sensitivity | specificity | calibration error |',
    '|---|---|---|---|---|---|---|---|---|',
    ...t.rows.map((s) => {
      const m = s.modes[mode];
      if (s.tooFew) return `| ${s.field} | ${s.group} | ${s.n} | ${s.positives ?? '–'} | too few | | | | |`;
      return `| ${s.field} | ${s.group} | ${s.n} | ${s.positives ?? '–'} | ${f3(m.auc!.value)} | ${f3(m.auc!.ci[0])}–${f3(m.auc!.ci[1])} | ${pct(m.sensitivity)} | ${pct(m.specificity)} | ${f3(m.calibrationError)} |`;
    }),
    '',
    'Largest gap per field (best minus worst subgroup AUC, patient bootstrap):',
    '',
    '| field | best | worst | gap | 95% CI | |',
    '|---|---|---|---|---|---|',
    ...t.gaps
      .filter((g) => g.mode === mode)
      .map(
        (g) =>
          `| ${g.field} | ${g.best} | ${g.worst} | ${f3(g.gap.value)} | ${f3(g.gap.ci[0])}–${f3(g.gap.ci[1])} | ${g.significant ? 'interval excludes 0' : ''} |`,
      ),
  ];
}
