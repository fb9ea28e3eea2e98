import os from 'node:os';
import path from 'node:path';
import { ortAvailability } from '../ml/backbone/runtime.ts';
import { DEFAULT_BACKBONE } from '../ml/backbone/catalogue.ts';
import { exportFeatures } from '../ml/backbone/exportFeatures.ts';
import { flagSet, optionalString, parseFlags, requireString, UsageError, wholeNumber } from './args.ts';
import { describeViewCache, diskSize } from '../../shared/results.ts';
import { DermFuseError } from '../../shared/errors.ts';
import { ExtractRequestSchema } from '../../shared/api.ts';
import { withProject, type Command } from './commands.ts';

/** dermfuse extract's flags: the extraction request's fields, each declared once. */
const EXTRACT_FLAGS = flagSet({
  backbone: 'text',
  layer: 'text',
  inputSize: 'number',
  range: 'numbers',
  mean: 'numbers',
  std: 'numbers',
  resize: 'text',
  tta: 'switch',
  runtime: 'text',
  backend: 'text',
  workers: 'number',
  batchSize: 'number',
});

export const ML_COMMANDS: Record<string, Command> = {
  doctor: {
    usage: 'dermfuse doctor [--backend tensorflow|wasm|cpu] [--json]',
    summary: 'which runtimes run here (ONNX Runtime and its execution providers, the TensorFlow.js backend), and why not a faster one',
    options: { backend: { type: 'string' } },
    positionals: [],
    async run(v) {
      const { backend: requested } = parseFlags(ExtractRequestSchema.pick({ backend: true }), { backend: optionalString(v, 'backend') });
      const [{ initBackend }, { default: sharp }] = await Promise.all([import('../ml/tfjs/backend.ts'), import('sharp')]);
      const b = await initBackend(requested);
      const ort = ortAvailability();
      const onnx = ort.ok ? await (await import('../ml/onnx/providers.ts')).probeProviders() : null;
      const json = {
        ...b,
        onnxruntime: onnx ?? { unavailable: ort.ok ? null : ort.why },
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: os.availableParallelism(),
        sharp: sharp.versions,
      };
      const lines = [
        onnx
          ? `ONNX Runtime: onnxruntime-node ${onnx.version} (the default runtime for feature extraction)`
          : `ONNX Runtime: not available (${ort.ok ? '' : ort.why}); extraction runs on TF.js`,
        ...(onnx?.providers ?? []).map((p) => `  ${p.usable ? 'usable' : 'not usable'}: ${p.name}${p.bundled ? '' : ' (not bundled)'} - ${p.note}`),
        `TensorFlow.js backend: ${b.backend} ${b.version}${b.backend === 'wasm' ? ` (SIMD ${b.simd ? 'on' : 'off'}, threads ${b.threads ? 'on' : 'off'})` : ''} (training, and backbones ONNX Runtime cannot run)`,
      ];
      for (const f of b.fallbacks) lines.push(`  not used: ${f}`);
      lines.push(`Node ${process.version} on ${json.platform}, ${json.cpus} cores`);
      return { json, text: lines.join('\n') };
    },
  },
  extract: {
    usage:
      'dermfuse extract DIR [--backbone PATH|URL|ID (default: the built-in MobileNetV2 1.0, ONNX)] [--layer NAME] [--input-size N] [--range LOW,HIGH | --mean R,G,B --std R,G,B]\n' +
      '        [--resize squash|center-crop] [--tta] [--runtime onnx|tfjs] [--backend tensorflow|wasm|cpu] [--workers N] [--batch-size N] [--json]',
    summary: 'compute CNN features of every image (cached; a re-run only does what is missing)',
    options: EXTRACT_FLAGS.options,
    positionals: ['DIR'],
    async run(v, [dir], ctx) {
      const { backbone = DEFAULT_BACKBONE, ...options } = parseFlags(ExtractRequestSchema, EXTRACT_FLAGS.read(v));
      const { extractFeatures } = await import('../ml/backbone/extract.ts');
      return withProject(dir!, async (project) => {
        const s = await extractFeatures(project, backbone, {
          ...options,
          signal: ctx.signal,
          onProgress: (p) => ctx.progress(`${p.phase}: ${p.done}/${p.total}`),
        });
        const text = [
          `Features ${s.key} (${s.dim}-d)${s.runtime ? ` on ${s.runtime.detail}` : ', nothing new to compute'}:`,
          ...(s.runtime?.notes ?? []).map((n) => `  ${n}`),
          `  ${s.extracted} extracted, ${s.cached} cached, ${s.failed} failed of ${s.images} images in ${s.seconds.toFixed(1)} s (${s.imagesPerSecond.toFixed(1)} img/s)`,
          ...s.failures.slice(0, 20).map((f) => `  ${f.source}: ${f.message}`),
        ].join('\n');
        return { json: s, text };
      });
    },
  },
  caches: {
    usage: 'dermfuse caches DIR [--remove NAME | --remove-all] [--json]',
    summary: 'the fine-tuning view caches on disk (what each holds, its size, its last use), and removing them',
    options: { remove: { type: 'string' }, 'remove-all': { type: 'boolean' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      const { listViewCaches, removeViewCache } = await import('../ml/finetune/cacheFolders.ts');
      const name = optionalString(v, 'remove');
      if (name !== undefined && v['remove-all']) throw new UsageError('--remove NAME or --remove-all, not both');
      return withProject(dir!, async (project) => {
        const before = listViewCaches(project.dir);
        const asked = v['remove-all'] ? before.filter((c) => !c.busy) : name !== undefined ? before.filter((c) => c.name === name) : [];
        // Only a cache as listed (its exact name): on a case-blind disk another spelling would reach it too.
        if (name !== undefined && asked.length === 0) throw new DermFuseError('NOT_FOUND', `No view cache "${name}" in this project (see dermfuse caches).`);
        const gone: typeof asked = [];
        for (const c of asked) {
          try {
            removeViewCache(project.dir, c.name);
            gone.push(c);
          } catch (e) {
            // --remove-all goes on past a cache a run took up since the listing (it is listed as in use below).
            if (!(name === undefined && e instanceof DermFuseError && e.code === 'BUSY')) throw e;
          }
        }
        const caches = listViewCaches(project.dir);
        const freed = gone.reduce((s, c) => s + c.bytes, 0);
        const lines = caches.map(
          (c) =>
            `${c.name}  ${diskSize(c.bytes)}  ${describeViewCache(c)}; last used ${c.lastUsed?.slice(0, 16).replace('T', ' ') ?? 'unknown'}${c.busy ? ' (in use)' : ''}`,
        );
        const total = caches.reduce((s, c) => s + c.bytes, 0);
        const text = [
          ...(gone.length > 0 ? [`Removed ${gone.length} view cache${gone.length === 1 ? '' : 's'} (${diskSize(freed)}).`] : []),
          caches.length > 0 ? `${caches.length} view cache${caches.length === 1 ? '' : 's'}, ${diskSize(total)}:` : 'No view caches.',
          ...lines,
        ].join('\n');
        return { json: { removed: gone.map((c) => c.name), freedBytes: freed, caches }, text };
      });
    },
  },
  'export-features': {
    usage: 'dermfuse export-features DIR --backbone KEY|NAME --out FILE.csv [--json]',
    summary: 'write image_id and one column per feature dimension',
    options: { backbone: { type: 'string' }, out: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      const out = path.resolve(requireString(v, 'out'));
      return withProject(dir!, async (project) => {
        const r = await exportFeatures(project, requireString(v, 'backbone'), out);
        return { json: { out, ...r }, text: `Wrote ${r.rows} rows of ${r.dim} features (${r.key}) to ${out}` };
      });
    },
  },
};

ML_COMMANDS['train-backbone'] = {
  usage: 'dermfuse train-backbone DIR [--name NAME] [--input-size 96] [--epochs 30] [--batch-size 32] [--seed 1] [--backend wasm|cpu|tensorflow] [--json]',
  summary: 'train a small CNN on the project’s own labels, to use as a backbone when no pretrained one fits',
  options: {
    name: { type: 'string' },
    'input-size': { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
  },
  positionals: ['DIR'],
  async run(v, [dir], ctx) {
    const { TRAIN_BACKBONE_LIMITS, trainBackbone } = await import('../ml/cnn/trainBackbone.ts');
    return withProject(dir!, async (project) => {
      const s = await trainBackbone(project, {
        name: optionalString(v, 'name'),
        inputSize: wholeNumber(optionalString(v, 'input-size'), 'input-size', ...TRAIN_BACKBONE_LIMITS.inputSize),
        epochs: wholeNumber(optionalString(v, 'epochs'), 'epochs', ...TRAIN_BACKBONE_LIMITS.epochs),
        batchSize: wholeNumber(optionalString(v, 'batch-size'), 'batch-size', ...TRAIN_BACKBONE_LIMITS.batchSize),
        seed: wholeNumber(optionalString(v, 'seed'), 'seed', ...TRAIN_BACKBONE_LIMITS.seed),
        backend: parseFlags(ExtractRequestSchema.pick({ backend: true }), { backend: optionalString(v, 'backend') }).backend,
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(`${p.phase}: ${p.done}/${p.total}${p.message ? ` ${p.message}` : ''}`),
      });
      const text = [
        `Trained ${s.name} on ${s.trainImages} images (${s.valImages} held out by patient) with ${s.backend?.backend ?? '?'}:`,
        `  best epoch ${s.bestEpoch} of ${s.epochsRun}: validation loss ${s.bestValLoss.toFixed(3)}, accuracy ${s.valAccuracy.toFixed(3)}`,
        `  saved to ${s.dir}; use it with: dermfuse extract ${dir} --backbone ${s.dir}`,
      ].join('\n');
      return { json: s, text };
    });
  },
};
