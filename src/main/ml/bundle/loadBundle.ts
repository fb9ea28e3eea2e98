import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import type { FinalModels } from '../fusion/crossval.ts';
import { BUNDLE_VERSION, ManifestSchema, PreprocessingFileSchema, type BundleBackbone, type Manifest, type PreprocessingFile } from './format.ts';
import { sha256File } from '../download.ts';

export interface Bundle {
  dir: string;
  manifest: Manifest;
  pre: PreprocessingFile;
  models: FinalModels;
}

function bad(dir: string, what: string): DermFuseError {
  return new DermFuseError('INVALID_VALUE', `Bundle ${dir}: ${what}`);
}

function readJson(dir: string, name: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  } catch (err) {
    throw bad(dir, `${name} is not readable JSON (${(err as Error).message}).`);
  }
}

/**
 * Opens a bundle and checks it before anything is used: a DermFuse manifest, a format version this build reads,
 * every listed file present and matching its SHA-256 (so an edited JSON or a damaged weight file is refused), and
 * a well-formed preprocessing.json.
 */
export function loadBundle(dirArg: string): Bundle {
  const dir = path.resolve(dirArg);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw bad(dir, 'not a DermFuse bundle (no manifest.json). Export one with dermfuse export.');
  const raw = readJson(dir, 'manifest.json') as { format?: unknown; version?: unknown };
  if (raw.format !== 'dermfuse-bundle') throw bad(dir, `manifest.json is not a DermFuse bundle manifest (format ${JSON.stringify(raw.format)}).`);
  if (typeof raw.version === 'number' && raw.version > BUNDLE_VERSION) {
    throw bad(dir, `bundle format version ${raw.version} is newer than this DermFuse reads (${BUNDLE_VERSION}); update DermFuse.`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw bad(dir, `manifest.json: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  const manifest = parsed.data;
  for (const [name, { sha256 }] of Object.entries(manifest.files)) {
    const file = path.resolve(dir, name);
    if (!file.startsWith(dir + path.sep)) throw bad(dir, `manifest.json names a file outside the bundle: ${name}`);
    if (!fs.existsSync(file)) throw bad(dir, `${name} is missing.`);
    if (sha256File(file) !== sha256) throw bad(dir, `${name} does not match its SHA-256 in manifest.json (edited or damaged).`);
  }
  for (const required of ['preprocessing.json', 'MODEL_CARD.md']) if (!manifest.files[required]) throw bad(dir, `manifest.json does not list ${required}.`);
  const pre = PreprocessingFileSchema.safeParse(readJson(dir, 'preprocessing.json'));
  if (!pre.success) throw bad(dir, `preprocessing.json: ${pre.error.issues[0]?.path.join('.')}: ${pre.error.issues[0]?.message}`);
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
