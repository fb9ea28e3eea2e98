import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openMedia, projectPhotoFolders, readMedia, type MediaRoots, type OpenedMedia } from '../images/media.ts';
import { DermFuseError } from '../../shared/errors.ts';
import type { Explanation, OcclusionMap } from '../../shared/explain.ts';
import type { Mode } from '../../shared/results.ts';
import { repoOf } from '../db/open.ts';
import { ExplanationsRepo } from '../db/repos/explanationsRepo.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import { FieldsRepo } from '../db/repos/fieldsRepo.ts';
import { ImagesRepo, type ImageRow } from '../db/repos/imagesRepo.ts';
import { backboneDigest } from '../ml/backbone/resolve.ts';
import { explainCase } from '../ml/explain/contributions.ts';
import { caseProbabilities, decideOne, projectOne } from '../ml/explain/forward.ts';
import { heatmapPng } from '../ml/explain/heatmapPng.ts';
import { OCCLUSION_GRID, occlusionMap, type OcclusionBackbone, type Occluder } from '../ml/explain/occlusion.ts';
import { KEY_SEPARATOR } from '../ml/fusion/dataset.ts';
import { runModels, runReport } from '../ml/fusion/runs.ts';
import type { FinalModels } from '../ml/fusion/crossval.ts';
import { encodeRow } from '../ml/fusion/tabular.ts';
import { parseCell } from '../files/values.ts';
import type { FieldValue } from '../../shared/types.ts';
import type { Project } from '../project.ts';

export interface ExplainRequest {
  runId: number;
  imageId: number;
  mode: Mode;
  /** The class to explain; absent: the one the mode predicts. */
  className?: string;
  /** Compute (or read from the cache) the occlusion map; default true for image and fused models. */
  occlusion?: boolean;
  /** Reference values the user picked for some fields (as typed; checked against each field's type). */
  baseline?: Record<string, string>;
  signal?: AbortSignal;
}

/** What explaining an image under a run needs, checked once: the models, the image, its features and its metadata. */
interface Subject {
  models: FinalModels;
  classes: string[];
  image: ImageRow & { sha256: string };
  keys: string[];
  vector: Float32Array;
  row: ReturnType<FieldsRepo['rows']>[number];
}

function subject(project: Project, runId: number, imageId: number): Subject {
  const report = runReport(project, runId);
  if (report.status !== 'done' || !report.result)
    throw new DermFuseError('INVALID_ARGUMENT', `Run ${runId} is ${report.status}: only finished runs are explained.`);
  const image = repoOf(project.db, ImagesRepo).byId(imageId);
  if (!image) throw new DermFuseError('NOT_FOUND', `No image ${imageId} in this project.`);
  if (image.status !== 'ok' || !image.sha256)
    throw new DermFuseError('INVALID_VALUE', `Image ${image.external_id} could not be read at import: it cannot be explained.`);
  const keys = report.snapshot.backboneKey.split(KEY_SEPARATOR);
  const store = repoOf(project.db, FeatureStore);
  const parts = keys.map((k) => store.vector(k, image.sha256!));
  const missing = keys.filter((_, i) => !parts[i]);
  if (missing.length)
    throw new DermFuseError(
      'NOT_FOUND',
      `Image ${image.external_id} has no features under ${missing.join(', ')} (run ${runId}'s backbone): run dermfuse extract first.`,
    );
  const vector = new Float32Array(parts.reduce((s, p) => s + p!.length, 0));
  let o = 0;
  for (const p of parts) vector.set(p!, (o += p!.length) - p!.length);
  const fields = repoOf(project.db, FieldsRepo);
  const row = fields.rows(
    [imageId],
    report.result.fieldsUsed.map((n) => fields.get(n)),
  )[0]!;
  return { models: runModels(project, runId), classes: report.result.classes, image: image as Subject['image'], keys, vector, row };
}

/** The backbones of a run as the occluder loads them, each refused by name when its files are gone. */
async function runBackbones(project: Project, runId: number, keys: string[]): Promise<OcclusionBackbone[]> {
  const store = repoOf(project.db, FeatureStore);
  return Promise.all(
    keys.map(async (key) => {
      const b = store.backbone(key);
      if (!b || !b.spec.dir || b.spec.dir === '-' || !fs.existsSync(b.spec.dir))
        throw new DermFuseError(
          'FILE_NOT_FOUND',
          `The backbone of run ${runId} (${key}) is not on disk (${b?.spec.dir ?? 'unknown folder'}): its occlusion maps cannot be computed. Extract again to restore it.`,
        );
      const digest = await backboneDigest(b.spec);
      if (b.spec.digest && digest !== b.spec.digest)
        throw new DermFuseError(
          'INVALID_VALUE',
          `The backbone files in ${b.spec.dir} changed since run ${runId} extracted its features (${key}): a map from them would not show what the run's model saw. Extract again, or restore the files.`,
        );
      return { spec: b.spec, digest };
    }),
  );
}

/** The index of the explained class: the one asked for (by name), else the one the mode decides for the image. */
function explainedClass(s: Subject, mode: Mode, runId: number, className: string | undefined): { c: number; predicted: number } {
  const image = mode === 'metadata' ? null : projectOne(s.models.pca, s.vector);
  const meta = mode === 'image' || s.models.encoder.width === 0 ? null : Float64Array.from(encodeRow(s.models.encoder, s.row));
  const probs = caseProbabilities(s.models, mode, { image, meta });
  const predicted = decideOne(s.models, mode, probs);
  if (className === undefined) return { c: predicted, predicted };
  const c = s.classes.indexOf(className);
  if (c < 0) throw new DermFuseError('NOT_FOUND', `Run ${runId} has no class "${className}". Classes: ${s.classes.join(', ')}.`);
  return { c, predicted };
}

/** The user's baseline values, each parsed by its field's type: a value that does not fit is refused naming the field. */
function baselineOf(models: FinalModels, given: Record<string, string> | undefined): Map<string, FieldValue> {
  const out = new Map<string, FieldValue>();
  for (const [name, text] of Object.entries(given ?? {})) {
    const e = models.encoder.fields.find((f) => f.name === name);
    if (!e) continue; // explainCase refuses it, naming the model's fields
    const parsed = parseCell(e.kind === 'category' ? 'category' : e.kind, text);
    if (!parsed.ok) throw new DermFuseError('INVALID_VALUE', `baseline ${name}=${text}: ${parsed.reason}.`);
    out.set(name, parsed.value);
  }
  return out;
}

/** The roots when no server gave any (the CLI): the project's folder and the folders it imported from, real paths. */
async function projectRoots(project: Project): Promise<MediaRoots> {
  const dirs = projectPhotoFolders(project);
  const real = await Promise.all(dirs.map((d) => fs.promises.realpath(d).catch(() => null)));
  return { images: real.filter((d): d is string => d !== null), thumbnails: path.join(project.dir, 'thumbnails') };
}

/**
 * Opens an image's photo through the checks photo serving applies (openMedia: real path inside `roots`, opened
 * without following a final link, a regular file under the size cap). A photo that is gone or refused is an error
 * naming the image; the handle is the caller's to close (readMedia reads and closes it).
 */
async function openPhoto(project: Project, image: ImageRow, roots: MediaRoots | undefined): Promise<OpenedMedia> {
  const m = await openMedia(project, 'image', String(image.id), roots ?? (await projectRoots(project)));
  if (m) return m;
  if (!fs.existsSync(image.path))
    throw new DermFuseError('FILE_NOT_FOUND', `The photo of image ${image.external_id} is not at ${image.path} any more: relink the project's images.`);
  throw new DermFuseError(
    'FORBIDDEN',
    `The photo of image ${image.external_id} (${image.path}) is not read: it resolves outside the folders this project may read, is a link, or is not a regular image file.`,
  );
}

/**
 * What a map of `mode` depends on besides the photo: for a fused model with metadata inputs, a hash of the image's
 * encoded metadata row (an edit that changes it changes the map); '' otherwise.
 */
function metadataHash(s: Subject, mode: Mode): string {
  if (mode !== 'fused' || s.models.encoder.width === 0) return '';
  const encoded = Float64Array.from(encodeRow(s.models.encoder, s.row));
  return createHash('sha256').update(new Uint8Array(encoded.buffer)).digest('hex');
}

/**
 * Explains one image under a run's final model of one mode: the contributions of its metadata fields and its image
 * block (from its stored features), and the occlusion map (cached per run, image, mode and class, for the photo's
 * content and, in fused mode, the image's metadata as it is now).
 */
export async function explainImage(project: Project, occluder: Occluder, req: ExplainRequest, roots?: MediaRoots): Promise<Explanation> {
  return (await explainWithPhoto(project, occluder, req, roots, false)).explanation;
}

/** explainImage, and (with `keepPhoto`, when a map was asked for) the photo's bytes it read through the checks. */
async function explainWithPhoto(
  project: Project,
  occluder: Occluder,
  req: ExplainRequest,
  roots: MediaRoots | undefined,
  keepPhoto: boolean,
): Promise<{ explanation: Explanation; photo: Buffer | null }> {
  const s = subject(project, req.runId, req.imageId);
  const { c, predicted } = explainedClass(s, req.mode, req.runId, req.className);
  let occlusion: OcclusionMap | null = null;
  let cached = false;
  let bytes: Buffer | null = null;
  if (req.mode !== 'metadata' && req.occlusion !== false) {
    const repo = repoOf(project.db, ExplanationsRepo);
    const key = { runId: req.runId, imageId: req.imageId, mode: req.mode, className: s.classes[c]!, grid: OCCLUSION_GRID, metaHash: metadataHash(s, req.mode) };
    // The photo passes the serving checks even when the map is cached: what media serving refuses is not explained.
    const photo = await openPhoto(project, s.image, roots);
    const hit = repo.get(key, s.image.sha256);
    if (hit) {
      if (keepPhoto) bytes = await readMedia(photo);
      else await photo.handle.close();
      occlusion = JSON.parse(hit) as OcclusionMap;
      cached = true;
    } else {
      bytes = await readMedia(photo);
      const backbones = await runBackbones(project, req.runId, s.keys);
      occlusion = await occlusionMap(occluder, s.models, req.mode, bytes, backbones, s.row, c, OCCLUSION_GRID, req.signal);
      repo.put(key, s.image.sha256, JSON.stringify(occlusion), new Date().toISOString());
    }
  }
  const explanation: Explanation = {
    runId: req.runId,
    imageId: req.imageId,
    externalId: s.image.external_id,
    mode: req.mode,
    className: s.classes[c]!,
    predicted: s.classes[predicted]!,
    occlusion,
    contributions: explainCase(s.models, req.mode, req.mode === 'metadata' ? null : s.vector, s.row, c, baselineOf(s.models, req.baseline)),
    cached,
  };
  return { explanation, photo: keepPhoto ? bytes : null };
}

/**
 * The image of a run's explanation as a PNG with a colour bar (the map computed or read from the cache); the photo is
 * read through the serving checks (`roots`: the server's; absent: the project's and its import folders).
 */
export async function explanationPng(
  project: Project,
  occluder: Occluder,
  req: ExplainRequest,
  roots?: MediaRoots,
): Promise<{ png: Buffer; fileName: string; explanation: Explanation }> {
  if (req.mode === 'metadata')
    throw new DermFuseError('INVALID_ARGUMENT', 'A metadata-only model has no occlusion map to export: choose the fused or image model.');
  // The photo is opened and read once, through the checks, for both the map and the picture.
  const { explanation: e, photo } = await explainWithPhoto(project, occluder, { ...req, occlusion: true }, roots, true);
  const png = await heatmapPng(photo!, e.occlusion!, e.className);
  const safe = e.externalId.replace(/[^\w.-]+/g, '_');
  return { png, fileName: `${safe}-run${req.runId}-${req.mode}-heatmap.png`, explanation: e };
}
