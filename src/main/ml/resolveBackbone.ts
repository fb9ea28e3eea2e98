import { createHash } from 'node:crypto';
import { z } from 'zod';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import { BackboneSpecSchema, IMAGENET_CENTER_CROP, meanStdPreprocessing, rangePreprocessing, type BackboneSpec, type Preprocessing } from './backboneSpec.ts';
import { catalogueEntry, CATALOGUE } from './catalogue.ts';
import { imageInputOf, onnxInputShape } from './onnx/inputShape.ts';
import { classifierInput, hasTensor, readGraph } from './onnx/graph.ts';
import { ensureModel, ensureOnnxFile, folderDigest, sha256File, type DownloadOptions } from './download.ts';
import { modelFormat, readModelJson } from './modelFiles.ts';
import { resourcesDir } from '../resources.ts';

export interface BackboneOptions extends DownloadOptions {
  layer?: string;
  inputSize?: number;
  range?: [number, number];
  mean?: [number, number, number];
  std?: [number, number, number];
  resize?: Preprocessing['resize'];
  tta?: boolean;
  cacheDir?: string;
}

export interface ResolvedBackbone {
  spec: BackboneSpec;
  /** Digest of the model files: part of the feature cache key. */
  digest: string;
}

/** Where downloaded backbones are kept (shared by all projects of a user). */
export function modelCacheDir(): string {
  return process.env.DERMFUSE_MODEL_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'dermfuse', 'models');
}

/** Input size from a Keras model's first input layer, when the topology says it. */
function inputSizeOf(dir: string): number | null {
  const text = JSON.stringify(readModelJson(dir).modelTopology);
  const m = /"batch_?[iI]nput_?[sS]hape":\[null,(\d+),(\d+),3\]/.exec(text);
  return m ? Number(m[1]) : null;
}

function preprocessingFrom(opts: BackboneOptions, base: Preprocessing | null, dir: string): Preprocessing {
  const size = opts.inputSize ?? base?.inputSize ?? (fs.existsSync(path.join(dir, 'model.json')) ? inputSizeOf(dir) : null) ?? 224;
  const resize = opts.resize ?? base?.resize ?? 'squash';
  if (opts.mean || opts.std) {
    if (!opts.mean || !opts.std) throw new DermFuseError('INVALID_ARGUMENT', '--mean and --std go together (three values each, on 0-1 pixel values)');
    return meanStdPreprocessing(size, opts.mean, opts.std, resize, opts.resize ? undefined : base?.crop);
  }
  if (opts.range) return rangePreprocessing(size, opts.range[0], opts.range[1], resize);
  return base ? { ...base, inputSize: size, resize } : rangePreprocessing(size, -1, 1, resize);
}

/** Where a model named by URL is kept in the cache. */
function urlCacheDir(cache: string, url: string): string {
  return path.join(cache, `url-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`);
}

/** The files a backbone is made of, relative to its folder: model.json and weight shards, or the .onnx file. */
export function backboneFiles(spec: Pick<BackboneSpec, 'dir' | 'format' | 'onnx'>): string[] {
  if (spec.format === 'onnx') return [spec.onnx!.file];
  return ['model.json', ...readModelJson(spec.dir).weightsManifest.flatMap((g) => g.paths)];
}

/** The digest features are keyed by: of the TF.js files (see modelDigest) or of the .onnx file. */
export function backboneDigest(spec: Pick<BackboneSpec, 'dir' | 'format' | 'onnx'>): string {
  return spec.format === 'onnx' ? sha256File(path.join(spec.dir, spec.onnx!.file)) : folderDigest(spec.dir);
}

/** What a `dermfuse-backbone.json` beside a model may say: the spec's own fields. */
const SidecarSchema = BackboneSpecSchema.omit({ dir: true, tta: true })
  .partial()
  .extend({ tta: z.boolean().optional(), onnx: BackboneSpecSchema.shape.onnx.unwrap().partial().optional() });

function readSidecar(dir: string): z.infer<typeof SidecarSchema> {
  const file = path.join(dir, 'dermfuse-backbone.json');
  if (!fs.existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DermFuseError('INVALID_VALUE', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = SidecarSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DermFuseError('INVALID_VALUE', `${file}: ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Defaults for an ONNX model with no sidecar: what PyTorch exports expect (ImageNet mean/std, 256 then centre 224, NCHW). */
const ONNX_DEFAULT_PREPROCESSING = IMAGENET_CENTER_CROP;

/** The image input's size and layout read from an .onnx file; null when the shape does not say (dynamic sizes). */
function imageInputFile(file: string): { size: number; layout: 'nchw' | 'nhwc' } | null {
  try {
    const shape = onnxInputShape(fs.readFileSync(file));
    return shape ? imageInputOf(shape.dims) : null;
  } catch {
    // Not readable as ONNX here: ONNX Runtime will say what is wrong with it when it loads the model.
    return null;
  }
}

/** A model on disk: a TF.js folder (model.json), an .onnx file, or a folder holding one .onnx file. */
function localModel(ref: string): { dir: string; digest: string; name: string; base: Partial<BackboneSpec> } {
  const abs = path.resolve(ref);
  const catalogue = CATALOGUE.map((e) => e.id).join(', ');
  let onnxFile: string | null = null;
  if (abs.toLowerCase().endsWith('.onnx')) {
    if (!fs.existsSync(abs)) throw new DermFuseError('NOT_FOUND', `--backbone ${ref}: no such file.`);
    onnxFile = abs;
  } else if (fs.existsSync(abs) && fs.statSync(abs).isDirectory() && !fs.existsSync(path.join(abs, 'model.json'))) {
    const found = fs.readdirSync(abs).filter((f) => f.toLowerCase().endsWith('.onnx'));
    if (found.length > 1)
      throw new DermFuseError('INVALID_ARGUMENT', `--backbone ${ref}: the folder holds several ONNX models (${found.join(', ')}); name one.`);
    if (found.length === 1) onnxFile = path.join(abs, found[0]!);
  }
  if (onnxFile) {
    const dir = path.dirname(onnxFile);
    const sidecar = readSidecar(dir);
    const digest = backboneDigest({ dir, format: 'onnx', onnx: { file: path.basename(onnxFile), input: null, layout: 'nchw' } });
    // Without a sidecar, the model's own input shape gives the size and the layout (PyTorch exports: NCHW).
    const own = sidecar.preprocessing && sidecar.onnx?.layout ? null : imageInputFile(onnxFile);
    const pre = sidecar.preprocessing ?? (own ? { ...ONNX_DEFAULT_PREPROCESSING, inputSize: own.size } : ONNX_DEFAULT_PREPROCESSING);
    return {
      dir,
      digest,
      name: path.basename(dir) === '.' ? path.basename(onnxFile, '.onnx') : path.basename(dir),
      base: {
        ...sidecar,
        format: 'onnx',
        preprocessing: pre,
        onnx: { file: path.basename(onnxFile), input: sidecar.onnx?.input ?? null, layout: sidecar.onnx?.layout ?? own?.layout ?? 'nchw' },
      },
    };
  }
  const dir = abs.endsWith('model.json') ? path.dirname(abs) : abs;
  if (!fs.existsSync(path.join(dir, 'model.json'))) {
    throw new DermFuseError('NOT_FOUND', `--backbone ${ref}: not a model folder (no model.json or .onnx file there), a URL, or a catalogue id (${catalogue}).`);
  }
  const { onnx: _onnx, ...sidecar } = readSidecar(dir);
  return { dir, digest: folderDigest(dir), name: path.basename(dir), base: sidecar };
}

/**
 * Turns what the user named (a catalogue id, a model.json URL, or a model folder) into a local model folder and a
 * full spec. Downloads on first use; a folder may carry `dermfuse-backbone.json` with its own defaults.
 */
export async function resolveBackbone(ref: string, opts: BackboneOptions = {}): Promise<ResolvedBackbone> {
  const cache = opts.cacheDir ?? modelCacheDir();
  const entry = catalogueEntry(ref);
  let dir: string;
  let digest: string;
  let name: string;
  let base: Partial<BackboneSpec> = {};
  if (entry?.builtIn) {
    dir = path.join(resourcesDir(), 'models', entry.builtIn);
    digest = folderDigest(dir);
    if (entry.digest && digest !== entry.digest) {
      throw new DermFuseError('INVALID_VALUE', `The built-in backbone in ${dir} does not match its checksum (files changed or damaged): reinstall DermFuse.`);
    }
    name = entry.builtIn;
    base = { featureLayer: entry.featureLayer, preprocessing: entry.preprocessing, format: entry.format };
  } else if (entry?.url) {
    dir = path.join(cache, entry.id);
    name = entry.id;
    if (entry.format === 'onnx') {
      digest = await ensureOnnxFile(entry.url, dir, entry.digest, opts);
      base = {
        featureLayer: entry.featureLayer,
        preprocessing: entry.preprocessing,
        format: 'onnx',
        onnx: { file: 'model.onnx', input: null, layout: entry.layout ?? 'nchw' },
      };
    } else {
      digest = await ensureModel(entry.url, dir, entry.digest, opts);
      base = { featureLayer: entry.featureLayer, preprocessing: entry.preprocessing, format: entry.format };
    }
  } else if (/^https?:\/\/.*\.onnx(\?.*)?$/i.test(ref)) {
    // An ONNX file on the web: kept with the sidecar defaults of an ONNX model (flags override them).
    dir = urlCacheDir(cache, ref);
    digest = await ensureOnnxFile(ref, dir, null, opts);
    name = path.basename(new URL(ref).pathname, '.onnx') || 'model';
    base = { format: 'onnx', preprocessing: ONNX_DEFAULT_PREPROCESSING, onnx: { file: 'model.onnx', input: null, layout: 'nchw' } };
  } else if (/^https?:\/\//.test(ref)) {
    dir = urlCacheDir(cache, ref);
    digest = await ensureModel(ref, dir, null, opts);
    name = path.basename(path.dirname(new URL(ref).pathname)) || 'model';
  } else {
    const local = localModel(ref);
    dir = local.dir;
    digest = local.digest;
    name = local.name;
    base = local.base;
  }
  const spec = BackboneSpecSchema.parse({
    name: base.name ?? name,
    dir,
    format: base.format ?? modelFormat(readModelJson(dir)),
    onnx: base.onnx,
    featureLayer: opts.layer ?? base.featureLayer ?? null,
    preprocessing: preprocessingFrom(opts, base.preprocessing ?? null, dir),
    tta: opts.tta ?? base.tta ?? false,
  });
  return { spec: spec.format === 'onnx' ? withOnnxFeatures(spec) : spec, digest };
}

/**
 * An ONNX backbone's feature output checked against its graph: a named tensor must exist in it; with none named, a
 * classifier's scores are not features, so the input of its final linear layer is taken (the network with its
 * classifier removed); a model that ends in features keeps its output.
 */
function withOnnxFeatures(spec: BackboneSpec): BackboneSpec {
  const file = path.join(spec.dir, spec.onnx!.file);
  let graph;
  try {
    graph = readGraph(fs.readFileSync(file));
  } catch {
    // Not readable as ONNX here: ONNX Runtime will say what is wrong with it when it loads the model.
    return spec;
  }
  if (spec.featureLayer !== null) {
    if (!hasTensor(graph, spec.featureLayer)) {
      const near = graph.nodes.slice(-5).flatMap((n) => n.outputs);
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `--layer ${spec.featureLayer}: ${file} has no such tensor. Its outputs: ${graph.outputs.join(', ')}; the last nodes write ${near.join(', ')}.`,
      );
    }
    return spec;
  }
  const cut = classifierInput(graph);
  return cut ? { ...spec, featureLayer: cut } : spec;
}
