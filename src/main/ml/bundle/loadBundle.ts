import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError, firstIssue } from '../../../shared/errors.ts';
import { MAX_MODEL_BYTES, openRegularFile, readJsonFile, sha256OfFile } from '../../files/fsChecks.ts';
import type { FinalModels } from '../fusion/crossval.ts';
import { BUNDLE_VERSION, ManifestSchema, PreprocessingFileSchema, type BundleBackbone, type Manifest, type PreprocessingFile } from './format.ts';

export interface Bundle {
  dir: string;
  manifest: Manifest;
  pre: PreprocessingFile;
  models: FinalModels;
}

/**
 * preprocessing.json holds the run's fitted models: about 3 MB for one backbone, up to ~100 MB for a run fusing
 * several large ones (their PCA components). Anything larger is not a bundle DermFuse wrote.
 */
const MAX_PREPROCESSING_BYTES = 256 * 2 ** 20;

function bad(dir: string, what: string): DermFuseError {
  return new DermFuseError('INVALID_VALUE', `Bundle ${dir}: ${what}`);
}

/** A JSON file of the bundle: a regular file of at most `maxBytes`, read without blocking. */
async function readJson(dir: string, name: string, maxBytes?: number): Promise<unknown> {
  try {
    return await readJsonFile(path.join(dir, name), name, maxBytes);
  } catch (err) {
    throw bad(dir, (err as Error).message);
  }
}

/**
 * Checks one listed file before its bytes are read: a regular file (a FIFO or a device is refused at once, never
 * opened for a read that would wait forever), of the size the manifest gives and at most MAX_MODEL_BYTES (so a
 * swapped 2 GB file is refused without hashing it), then its SHA-256, streamed so the server keeps answering.
 */
async function checkFile(dir: string, name: string, expected: { sha256: string; bytes: number }): Promise<void> {
  const file = path.join(dir, name);
  const what = `Bundle ${dir}: ${name}`;
  const { handle, size } = await openRegularFile(file, what, MAX_MODEL_BYTES);
  await handle.close();
  if (size !== expected.bytes)
    throw bad(dir, `${name} does not match its SHA-256 in manifest.json (edited or damaged: it is ${size} bytes, the manifest lists ${expected.bytes}).`);
  if ((await sha256OfFile(file, what)) !== expected.sha256) throw bad(dir, `${name} does not match its SHA-256 in manifest.json (edited or damaged).`);
}

/**
 * Opens a bundle and checks it before anything is used: a DermFuse manifest, a format version this build reads,
 * every listed file present, a regular file, of its listed size and matching its SHA-256 (so an edited JSON or a
 * damaged weight file is refused), and a well-formed preprocessing.json. Every read is asynchronous.
 */
export async function loadBundle(dirArg: string): Promise<Bundle> {
  const dir = path.resolve(dirArg);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw bad(dir, 'not a DermFuse bundle (no manifest.json). Export one with dermfuse export.');
  const raw = (await readJson(dir, 'manifest.json')) as { format?: unknown; version?: unknown } | null;
  if (raw?.format !== 'dermfuse-bundle') throw bad(dir, `manifest.json is not a DermFuse bundle manifest (format ${JSON.stringify(raw?.format)}).`);
  if (typeof raw.version === 'number' && raw.version > BUNDLE_VERSION) {
    throw bad(dir, `bundle format version ${raw.version} is newer than this DermFuse reads (${BUNDLE_VERSION}); update DermFuse.`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw bad(dir, `manifest.json: ${firstIssue(parsed.error)}`);
  const manifest = parsed.data;
  for (const [name, expected] of Object.entries(manifest.files)) {
    const file = path.resolve(dir, name);
    if (!file.startsWith(dir + path.sep)) throw bad(dir, `manifest.json names a file outside the bundle: ${name}`);
    if (!fs.existsSync(file)) throw bad(dir, `${name} is missing.`);
    await checkFile(dir, name, expected);
  }
  for (const required of ['preprocessing.json', 'MODEL_CARD.md']) if (!manifest.files[required]) throw bad(dir, `manifest.json does not list ${required}.`);
  const pre = PreprocessingFileSchema.safeParse(await readJson(dir, 'preprocessing.json', MAX_PREPROCESSING_BYTES));
  if (!pre.success) throw bad(dir, `preprocessing.json: ${firstIssue(pre.error)}`);
  for (const b of bundleBackbones(pre.data)) {
    const main = `${b.folder}/${b.format === 'onnx' ? b.onnx?.file : 'model.json'}`;
    if (!manifest.files[main]) throw bad(dir, `${main} is not listed in manifest.json.`);
  }
  return { dir, manifest, pre: pre.data, models: pre.data.models as FinalModels };
}

/** The bundle's backbones in the order their features are concatenated (none for a metadata model). */
export function bundleBackbones(pre: PreprocessingFile): BundleBackbone[] {
  return pre.backbone ? [pre.backbone, ...(pre.moreBackbones ?? [])] : [];
}
