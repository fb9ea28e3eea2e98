import { MODES, pClause, type Mode, type SubgroupTable } from '../../shared/results.ts';
import { loadRunData } from '../ml/fusion/runData.ts';
import { runSubgroups } from '../ml/fusion/subgroups.ts';
import { DermFuseError } from '../../shared/errors.ts';
import { runList, runReport } from '../ml/fusion/runs.ts';
import type { RunResult } from '../ml/fusion/train.ts';
import type { FinetuneReport } from '../../shared/results.ts';
import { ExtractRequestSchema, TrainRequestSchema } from '../../shared/api.ts';
import { z } from 'zod';
import { flagSet, optionalString, parseFlags, positiveInt, requireString } from './args.ts';
import { withProject, type Command } from './commands.ts';

const f3 = (x: number) => x.toFixed(3);
/** A difference with its sign: "+0.043", "-0.002". */
const signed = (x: number) => `${x >= 0 ? '+' : ''}${f3(x)}`;

function describe(r: RunResult): string {
  const lines = [
    `Run ${r.runId}: ${r.label}${r.task === 'binary' ? ` (${r.classes[1]} vs ${r.classes[0]})` : ` (${r.classes.length} classes)`}, ${r.images} images, ${r.groups} ${r.groupBy}s, ${r.folds} folds, ${r.seconds.toFixed(1)} s on ${r.backend}`,
    `  fields: ${r.fieldsUsed.join(', ')}`,
    ...r.fieldsExcluded.map((e) => `  left out ${e.field}: ${e.reason}`),
    ...r.leakage.filter((w) => r.fieldsUsed.includes(w.field)).map((w) => `  WARNING ${w.field}: ${w.message}`),
    ...(r.consensus && r.consensus.rule !== 'latest'
      ? [`  labels: ${r.consensus.rule} consensus of the annotators (${r.consensus.differing} images differ from their latest label)`]
      : []),
    ...(r.duplicates && r.duplicates.pairs > 0
      ? [
          `  ${r.duplicates.crossedFolds} near-duplicate pairs crossed folds before merging; ${r.duplicates.merges} of ${r.duplicates.pairs} pairs joined two ${r.groupBy}s (${r.duplicates.include === 'confirmed' ? 'confirmed pairs only' : 'confirmed and unreviewed pairs'})`,
        ]
      : []),
    `  mode       AUC    95% CI           balanced accuracy`,
  ];
  for (const m of MODES) {
    const x = r.modes[m];
    lines.push(`  ${m.padEnd(10)} ${f3(x.auc)}  [${f3(x.aucCI[0])}, ${f3(x.aucCI[1])}]   ${f3(x.balancedAccuracy)}`);
  }
  lines.push(
    `  heads ${r.heads ?? 'image linear, metadata linear'}; fused ${r.fusion}; fused - image AUC ${signed(r.fusedVsImage.difference)} [${f3(r.fusedVsImage.ci[0])}, ${f3(r.fusedVsImage.ci[1])}], ${pClause(r.fusedVsImage.p)}`,
  );
  if (r.importance) {
    const top = r.importance.rows.slice(0, 5).map((x) => `${x.block} ${f3(x.drop)} [${f3(x.ci[0])}, ${f3(x.ci[1])}]`);
    lines.push(`  relies on (AUC drop when shuffled, fused): ${top.join('; ')}`);
    if (r.importance.warning) lines.push(`  WARNING ${r.importance.warning}`);
  }
  if (r.finetune) lines.push(...describeFinetune(r.finetune));
  lines.push(
    r.fusedBeatsBoth
      ? '  The metadata helps: the fused model beats both single modalities.'
      : '  The fused model does not beat both single modalities on this data.',
  );
  return lines.join('\n');
}

function describeFinetune(f: FinetuneReport): string[] {
  return [
    `  fine-tuned ${f.backbone} from ${f.cut} (${f.trainedConvolutions} of ${f.totalConvolutions} convolutions trained), ${f.views} views averaged${f.augment?.length ? `, trained on ${f.views} random views (${f.augment.join(' + ')}) too` : ''}; best epochs ${f.bestEpochs.join(', ')} of ${f.epochs} (final ${f.finalBestEpoch})`,
    `  against the frozen run ${f.baselineRunId} on the same folds${f.views > 1 ? ` (one view per image there: the difference includes what averaging ${f.views} views adds)` : ''}:`,
    ...(['image', 'fused'] as const).map(
      (m) =>
        `    ${m.padEnd(6)} frozen ${f3(f.frozen[m].auc)} -> fine-tuned ${f3(f.frozen[m].auc + f.vsFrozen[m].difference)}: ${signed(f.vsFrozen[m].difference)} [${signed(f.vsFrozen[m].ci[0])}, ${signed(f.vsFrozen[m].ci[1])}], ${pClause(f.vsFrozen[m].p)}; balanced accuracy ${f3(f.frozen[m].balancedAccuracy)} frozen`,
    ),
    `  caching ${f.cacheSeconds.toFixed(0)} s, training ${f.trainSeconds.toFixed(0)} s on ${f.workers} worker(s), ${f.samplesPerSecond.toFixed(1)} samples/s per worker`,
  ];
}

/** A fine-tuned run's one-line comparison with its frozen run, for `dermfuse runs`. */
function vsFrozenLine(f: FinetuneReport): string {
  const d = (m: 'image' | 'fused') => `${m} ${signed(f.vsFrozen[m].difference)} ${pClause(f.vsFrozen[m].p)}`;
  return `; fine-tuned from ${f.cut} vs frozen run #${f.baselineRunId}: ${d('image')}, ${d('fused')}`;
}

/** dermfuse train's flags: the training request's fields, each declared once. */
const TRAIN_FLAGS = flagSet({
  label: 'text',
  target: 'text',
  positive: 'list',
  fields: 'list',
  group: 'text',
  folds: 'number',
  backbone: 'text',
  seed: 'number',
  duplicates: 'text',
  consensus: 'text',
  finetune: 'switch',
  finetuneFrom: 'text',
  views: 'number',
  augment: 'list',
  epochs: 'number',
});

export const RUN_COMMANDS: Record<string, Command> = {
  train: {
    usage:
      'dermfuse train DIR --label SET [--target NAME | --positive A,B,C] [--fields a,b,c] [--group patient|lesion|image] [--folds 5] [--backbone KEY|NAME[,KEY2...]] [--seed N] [--duplicates unreviewed|confirmed|none] [--consensus latest|majority|dawid-skene] [--finetune [--finetune-from LAYER|input] [--views 8] [--augment crops,jitter] [--epochs 12]] [--json]',
    summary: 'image-only vs metadata-only vs fused models, patient-grouped cross-validation; --finetune trains the top of the CNN too',
    options: TRAIN_FLAGS.options,
    positionals: ['DIR'],
    async run(v, [dir], ctx) {
      const req = parseFlags(TrainRequestSchema, TRAIN_FLAGS.read(v));
      const { finetuneOf, trainAndRefresh, trainConfigOf } = await import('../workflows/train.ts');
      return withProject(dir!, async (project) => {
        const r = await trainAndRefresh(project, trainConfigOf(project, req), {
          finetune: finetuneOf(req),
          signal: ctx.signal,
          onProgress: (p) => ctx.progress(`train: ${p.done}/${p.total} ${p.message ?? ''}`),
        });
        const { evaluation: _e, innerScores: _i, ...summary } = r;
        return { json: summary, text: describe(r) };
      });
    },
  },
  runs: {
    usage: 'dermfuse runs DIR [--json]',
    summary: 'the training runs of a project, newest first',
    options: {},
    positionals: ['DIR'],
    async run(_v, [dir]) {
      return withProject(dir!, async (project) => {
        const runs = runList(project);
        const text = runs
          .map(
            (r) =>
              `#${r.runId} ${r.status}${r.staleImages > 0 ? ` (${r.staleImages} labels changed since)` : ''} ${r.label} ${r.modes ? `image ${f3(r.modes.image.auc.value)} metadata ${f3(r.modes.metadata.auc.value)} fused ${f3(r.modes.fused.auc.value)} (${r.fusion})` : (r.error ?? '')}${r.finetune ? vsFrozenLine(r.finetune) : ''}`,
          )
          .join('\n');
        return { json: { runs }, text: text || 'No runs yet.' };
      });
    },
  },
  report: {
    usage: 'dermfuse report DIR --run ID [--json]',
    summary: 'every metric of one run',
    options: { run: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      return withProject(dir!, async (project) => {
        const r = runReport(project, positiveInt(requireString(v, 'run'), 'run')!);
        if (!r.result) return { json: r, text: `Run ${r.runId}: ${r.status}${r.error ? ` (${r.error})` : ''}` };
        const subgroups = runSubgroups(project, loadRunData(project, r.runId));
        return { json: { ...r, subgroups }, text: `${describe(r.result)}${subgroups.summary ? `\n  ${subgroups.summary}` : ''}` };
      });
    },
  },
  subgroups: {
    usage: 'dermfuse subgroups DIR --run ID [--mode fused|image|metadata] [--json]',
    summary: 'a run’s performance per subgroup of every field (skin type first), with intervals and the largest gap per field',
    options: { run: { type: 'string' }, mode: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      const { mode } = parseFlags(z.object({ mode: z.enum(MODES).default('fused') }), { mode: optionalString(v, 'mode') });
      return withProject(dir!, async (project) => {
        const t = runSubgroups(project, loadRunData(project, positiveInt(requireString(v, 'run'), 'run')!));
        return { json: t, text: subgroupText(t, mode) };
      });
    },
  },
};

/** The subgroup table as text: one line per subgroup, the gaps, and the summary. */
function subgroupText(t: SubgroupTable, mode: Mode): string {
  const lines = [`${mode} model, per subgroup (n, positives, AUC [95% CI], sensitivity / specificity, calibration error):`];
  let field = '';
  for (const s of t.rows) {
    if (s.field !== field) {
      field = s.field;
      const gap = t.gaps.find((g) => g.field === field && g.mode === mode);
      lines.push(
        `  ${field}${t.notInModel.includes(field) ? ' (not a model input)' : ''}${gap ? `: gap ${f3(gap.gap.value)} [${f3(gap.gap.ci[0])}, ${f3(gap.gap.ci[1])}] ${gap.best} vs ${gap.worst}${gap.significant ? ' — interval excludes 0' : ''}` : ''}`,
      );
    }
    const m = s.modes[mode];
    const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
    lines.push(
      `    ${s.group.padEnd(12)} n ${String(s.n).padStart(4)}  pos ${String(s.positives ?? '–').padStart(4)}  ${m.auc ? `AUC ${f3(m.auc.value)} [${f3(m.auc.ci[0])}, ${f3(m.auc.ci[1])}]  ${pct(m.sensitivity)} / ${pct(m.specificity)}  ECE ${f3(m.calibrationError!)}` : 'too few'}`,
    );
  }
  if (t.summary) lines.push(t.summary);
  return lines.join('\n');
}

RUN_COMMANDS['label-errors'] = {
  usage: 'dermfuse label-errors DIR --run ID [--limit N] [--json]',
  summary: 'images whose out-of-fold predictions confidently disagree with their label (confident learning), most suspect first',
  options: { run: { type: 'string' }, limit: { type: 'string' } },
  positionals: ['DIR'],
  async run(v, [dir]) {
    const { labelIssues } = await import('../results/cases.ts');
    return withProject(dir!, async (project) => {
      const issues = labelIssues(project, positiveInt(requireString(v, 'run'), 'run')!).slice(0, positiveInt(optionalString(v, 'limit'), 'limit') ?? 50);
      const text = issues
        .map(
          (x, i) =>
            `${String(i + 1).padStart(3)} ${x.externalId} labelled ${x.given}, models say ${x.suggested} (P(label) ${f3(x.selfConfidence)})${x.review ? ` [${x.review}]` : ''}`,
        )
        .join('\n');
      return { json: { issues }, text: text || 'No likely label errors.' };
    });
  },
};

RUN_COMMANDS.serve = {
  usage:
    'dermfuse serve DIR [--port P] [--host H [--insecure-http]] [--data FOLDER]... [--max-upload GB] [--tls-cert PEM --tls-key PEM]\n       dermfuse serve --sample [DIR]   (creates the sample project first when DIR, default ./dermfuse-sample, has none)',
  summary: 'serve the app to a browser (127.0.0.1 by default; the printed URL carries the access token)',
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string', multiple: true },
    'max-upload': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'insecure-http': { type: 'boolean' },
    sample: { type: 'boolean' },
  },
  positionals: [],
  async run(v, [given], ctx) {
    const { serveProject } = await import('./serve.ts');
    let dir = given;
    if (v.sample === true) {
      const { createSampleProject, defaultSampleDir, isSampleProject } = await import('../images/sample.ts');
      dir ??= defaultSampleDir();
      if (!isSampleProject(dir)) await createSampleProject(dir, { signal: ctx.signal });
    }
    if (!dir) throw new DermFuseError('INVALID_ARGUMENT', 'missing DIR (or --sample)');
    const port = optionalString(v, 'port');
    if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535))
      throw new DermFuseError('INVALID_ARGUMENT', `--port takes a port number (0 for any free port), got "${port}"`);
    const cert = optionalString(v, 'tls-cert');
    const key = optionalString(v, 'tls-key');
    if ((cert === undefined) !== (key === undefined)) throw new DermFuseError('INVALID_ARGUMENT', '--tls-cert and --tls-key go together');
    const data = (v as Record<string, unknown>).data as string[] | undefined;
    const maxUpload = optionalString(v, 'max-upload');
    if (maxUpload !== undefined && !(/^\d+(\.\d+)?$/.test(maxUpload) && Number(maxUpload) > 0))
      throw new DermFuseError('INVALID_ARGUMENT', `--max-upload takes the most one upload may hold, in GB (e.g. 20), got "${maxUpload}"`);
    await serveProject(dir, {
      maxUploadBytes: maxUpload === undefined ? undefined : Math.round(Number(maxUpload) * 2 ** 30),
      host: optionalString(v, 'host') ?? '127.0.0.1',
      port: port === undefined ? 0 : Number(port),
      dataRoots: data ?? [],
      tls: cert && key ? { cert, key } : undefined,
      insecureHttp: v['insecure-http'] === true,
      json: v.json === true,
      signal: ctx.signal,
    });
    return null;
  },
};

RUN_COMMANDS.export = {
  usage: 'dermfuse export DIR --run ID [--mode fused|image|metadata] --out BUNDLE [--json]',
  summary: 'write a trained model as a self-contained bundle (backbone, preprocessing, model card, checksums)',
  options: { run: { type: 'string' }, mode: { type: 'string' }, out: { type: 'string' } },
  positionals: ['DIR'],
  async run(v, [dir]) {
    const mode = optionalString(v, 'mode') ?? 'fused';
    if (!['fused', 'image', 'metadata'].includes(mode)) throw new DermFuseError('INVALID_ARGUMENT', '--mode must be fused, image or metadata');
    const { exportBundle } = await import('../ml/bundle/exportBundle.ts');
    return withProject(dir!, async (project) => {
      const r = await exportBundle(project, positiveInt(requireString(v, 'run'), 'run')!, mode as 'fused', requireString(v, 'out'));
      return { json: r, text: `Wrote bundle ${r.out} (${r.files} files, ${(r.bytes / 2 ** 20).toFixed(1)} MiB)` };
    });
  },
};

RUN_COMMANDS.predict = {
  usage: 'dermfuse predict BUNDLE --images PATH [--metadata CSV] [--id-column C] --out FILE.csv [--runtime onnx|tfjs] [--explain DIR] [--json]',
  summary: 'predict new images (and their metadata) with an exported bundle; --explain adds a heatmap per image and contrib_* columns',
  options: {
    images: { type: 'string' },
    metadata: { type: 'string' },
    'id-column': { type: 'string' },
    out: { type: 'string' },
    runtime: { type: 'string' },
    explain: { type: 'string' },
  },
  positionals: ['BUNDLE'],
  async run(v, [bundle], ctx) {
    const { predictWithBundle, writePredictionsCsv } = await import('../workflows/predict.ts');
    const out = requireString(v, 'out');
    const { runtime } = parseFlags(ExtractRequestSchema.pick({ runtime: true }), { runtime: optionalString(v, 'runtime') });
    const s = await predictWithBundle(bundle!, requireString(v, 'images'), {
      metadataPath: optionalString(v, 'metadata'),
      idColumn: optionalString(v, 'id-column'),
      runtime,
      signal: ctx.signal,
      explainDir: optionalString(v, 'explain'),
      onProgress: (p) => ctx.progress(`${p.phase}: ${p.done}/${p.total} ${p.message ?? ''}`),
    });
    await writePredictionsCsv(s, out);
    const { rows: _rows, ...summary } = s;
    const text = [
      `Predicted ${s.images - s.failed} of ${s.images} images (${s.mode} model) into ${out}: ${Object.entries(s.predicted)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
      ...(s.runtime ? [`  image features on ${s.runtime.detail}`, ...s.runtime.notes.map((n) => `  ${n}`)] : []),
      ...s.warnings.map((w) => `  warning: ${w}`),
      ...(optionalString(v, 'explain') ? [`  heatmaps in ${optionalString(v, 'explain')}; contributions in the contrib_* columns`] : []),
    ].join('\n');
    return { json: { out, ...summary }, text };
  },
};
