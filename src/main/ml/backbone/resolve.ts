import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DermFuseError, firstIssue } from '../../../shared/errors.ts';
import { MAX_MODEL_BYTES, readRegularFile, sha256OfFile } from '../../files/fsChecks.ts';
import { IMAGENET_CENTER_CROP } from '../input/spec.ts';
import { BackboneSpecSchema, safeBackboneName, type BackboneSpec, type Preprocessing } from '../../../shared/backbone.ts';
import { catalogueEntry, CATALOGUE, type CatalogueEntry } from './catalogue.ts';
import { imageInputOf, onnxInputShape } from '../onnx/inputShape.ts';
import { classifierInput, hasTensor, readGraph } from '../onnx/graph.ts';
import { ensureModel, ensureOnnxFile, folderDigest, type DownloadOptions } from './download.ts';
import { modelFormat, readModelJson } from '../tfjs/modelFiles.ts';
import { resourcesDir } from '../../resources.ts';
import { preprocessingFrom, readSidecar } from './sidecar.ts';

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

/** Where a model named by URL is kept in the cache. */
function urlCacheDir(cache: string, url: string): string {
  return path.join(cache, `url-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`);
}

/** Files beside a backbone's weights that say whose they are and on what terms (bundles copy them too). */
export const NOTICE_FILES = ['LICENSE', 'SOURCE.md'] as const;

/** The files a backbone is made of, relative to its folder: model.json and weight shards, or the .onnx file. */
export async function backboneFiles(spec: Pick<BackboneSpec, 'dir' | 'format' | 'onnx'>): Promise<string[]> {
  if (spec.format === 'onnx') return [spec.onnx!.file];
  return ['model.json', ...(await readModelJson(spec.dir)).weightsManifest.flatMap((g) => g.paths)];
}

/** The digest features are keyed by: of the TF.js files (see modelDigest) or of the .onnx file, streamed. */
export async function backboneDigest(spec: Pick<BackboneSpec, 'dir' | 'format' | 'onnx'>): Promise<string> {
  const onnx = spec.format === 'onnx' ? path.join(spec.dir, spec.onnx!.file) : null;
  return onnx ? sha256OfFile(onnx, onnx) : folderDigest(spec.dir);
}

/** Defaults for an ONNX model with no sidecar: what PyTorch exports expect (ImageNet mean/std, 256 then centre 224, NCHW). */
const ONNX_DEFAULT_PREPROCESSING = IMAGENET_CENTER_CROP;

/** An .onnx file's bytes, read asynchronously; refused when it is not a regular file or is over MAX_MODEL_BYTES. */
function readOnnx(file: string): Promise<Buffer> {
  return readRegularFile(file, file, MAX_MODEL_BYTES);
}

/** The image input's size and layout read from an .onnx file; null when the shape does not say (dynamic sizes). */
async function imageInputFile(file: string): Promise<{ size: number; layout: 'nchw' | 'nhwc' } | null> {
  const bytes = await readOnnx(file);
  try {
    const shape = onnxInputShape(bytes);
    return shape ? imageInputOf(shape.dims) : null;
  } catch {
    // Not readable as ONNX here: ONNX Runtime will say what is wrong with it when it loads the model.
    return null;
  }
}

/** What a catalogue entry fixes of its spec; an ONNX entry's file is model.onnx (downloaded or built in), its input the first. */
function entryBase(entry: CatalogueEntry): Partial<BackboneSpec> {
  const base = { featureLayer: entry.featureLayer, preprocessing: entry.preprocessing, format: entry.format };
  return entry.format === 'onnx' ? { ...base, onnx: { file: 'model.onnx', input: null, layout: entry.layout ?? 'nchw' } } : base;
}

/** A model on disk: a TF.js folder (model.json), an .onnx file, or a folder holding one .onnx file. */
async function localModel(ref: string): Promise<{ dir: string; digest: string; name: string; base: Partial<BackboneSpec> }> {
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
    const sidecar = await readSidecar(dir);
    const digest = await backboneDigest({ dir, format: 'onnx', onnx: { file: path.basename(onnxFile), input: null, layout: 'nchw' } });
    // Without a sidecar, the model's own input shape gives the size and the layout (PyTorch exports: NCHW).
    const own = sidecar.preprocessing && sidecar.onnx?.layout ? null : await imageInputFile(onnxFile);
    const pre = sidecar.preprocessing ?? (own ? { ...ONNX_DEFAULT_PREPROCESSING, inputSize: own.size } : ONNX_DEFAULT_PREPROCESSING);
    return {
      dir,
      digest,
      name: safeBackboneName(path.basename(dir) === '.' ? path.basename(onnxFile, '.onnx') : path.basename(dir)),
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
  const { onnx: _onnx, ...sidecar } = await readSidecar(dir);
  return { dir, digest: await folderDigest(dir), name: safeBackboneName(path.basename(dir)), base: sidecar };
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
    base = entryBase(entry);
    // Pinned like a download of the same format: the .onnx file's SHA-256, or the TF.js files' digest.
    digest = await backboneDigest({ dir, format: entry.format, onnx: base.onnx });
    if (entry.digest && digest !== entry.digest) {
      throw new DermFuseError('INVALID_VALUE', `The built-in backbone in ${dir} does not match its checksum (files changed or damaged): reinstall DermFuse.`);
    }
    name = entry.builtIn;
  } else if (entry?.url) {
    dir = path.join(cache, entry.id);
    name = entry.id;
    base = entryBase(entry);
    digest = entry.format === 'onnx' ? await ensureOnnxFile(entry.url, dir, entry.digest, opts) : await ensureModel(entry.url, dir, entry.digest, opts);
  } else if (/^https?:\/\/.*\.onnx(\?.*)?$/i.test(ref)) {
    // An ONNX file on the web: kept with the sidecar defaults of an ONNX model (flags override them).
    dir = urlCacheDir(cache, ref);
    digest = await ensureOnnxFile(ref, dir, null, opts);
    name = safeBackboneName(path.basename(new URL(ref).pathname, '.onnx'));
    base = { format: 'onnx', preprocessing: ONNX_DEFAULT_PREPROCESSING, onnx: { file: 'model.onnx', input: null, layout: 'nchw' } };
  } else if (/^https?:\/\//.test(ref)) {
    dir = urlCacheDir(cache, ref);
    digest = await ensureModel(ref, dir, null, opts);
    name = safeBackboneName(path.basename(path.dirname(new URL(ref).pathname)));
  } else {
    const local = await localModel(ref);
    dir = local.dir;
    digest = local.digest;
    name = local.name;
    base = local.base;
  }
  const parsed = BackboneSpecSchema.safeParse({
    name: base.name ?? name,
    dir,
    format: base.format ?? modelFormat(await readModelJson(dir)),
    onnx: base.onnx,
    featureLayer: opts.layer ?? base.featureLayer ?? null,
    preprocessing: await preprocessingFrom(opts, base.preprocessing ?? null, dir),
    tta: opts.tta ?? base.tta ?? false,
  });
  // The flags and the sidecar were checked by name already; this catches what their combination makes.
  if (!parsed.success) throw new DermFuseError('INVALID_VALUE', `Backbone ${ref}: ${firstIssue(parsed.error)}`);
  const spec = parsed.data;
  return { spec: spec.format === 'onnx' ? await withOnnxFeatures(spec) : spec, digest };
}

/**
 * An ONNX backbone's feature output checked against its graph: a named tensor must exist in it; with none named, a
 * classifier's scores are not features, so the input of its final linear layer is taken (the network with its
 * classifier removed); a model that ends in features keeps its output.
 */
async function withOnnxFeatures(spec: BackboneSpec): Promise<BackboneSpec> {
  const file = path.join(spec.dir, spec.onnx!.file);
  const bytes = await readOnnx(file);
  let graph;
  try {
    graph = readGraph(bytes);
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
