import os from 'node:os';
import sharp from 'sharp';
import type { DuplicateGroup, QualityScanSummary } from '../../shared/quality.ts';
import type { ImportProblem } from '../../shared/types.ts';
import { DermFuseError } from '../../shared/errors.ts';
import { repoOf } from '../db/open.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import { QualityRepo } from '../db/repos/qualityRepo.ts';
import { SettingsRepo } from '../db/repos/settingsRepo.ts';
import { runPool, throttleProgress, type ProgressFn } from '../jobs/progress.ts';
import { logger } from '../log.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../ml/backbone/catalogue.ts';
import { extractFeatures } from '../ml/backbone/extract.ts';
import type { Project } from '../project.ts';
import { centredUnitRows, outlierCount, RULE_TEXT, scanPairs } from './pairs.ts';
import { MAX_INPUT_PIXELS } from '../files/imageFiles.ts';
import { contrastOf, GRID, HASH_BYTES, hashesFromBlob, hashesOfGrey } from './phash.ts';
import { duplicateReport, SCAN_SETTING } from './report.ts';

const log = logger('quality');

/** Grey-level standard deviation (0-255, at 32 x 32) under which an image is a blank frame (the flattest of the 686 PAD photos has 5.0). */
export const BLANK_CONTRAST = 2.5;
/**
 * The backbone whose cosines the near-duplicate rule reads: the one its thresholds were fitted on (pairs.ts). Another
 * network's cosines spread otherwise, so the default is not used; this one is also the fastest built in.
 */
const SCAN_BACKBONE = SMALL_BUILT_IN_BACKBONE;
/** Hashes are written in batches, so a killed scan keeps what it hashed. */
const HASH_BATCH = 200;

/** Perceptual hashes (phash.ts) of an image file (EXIF-oriented, greyscale, squashed to 32 x 32), and its grey contrast. */
async function perceptualHashes(file: string): Promise<{ phash: Buffer; contrast: number }> {
  const grey = await sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .greyscale()
    .resize(GRID, GRID, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  if (grey.length !== GRID * GRID) throw new Error(`decoded to ${grey.length} grey values, expected ${GRID * GRID}`);
  const h = hashesOfGrey(grey);
  return { phash: Buffer.from(h.buffer, h.byteOffset, h.byteLength), contrast: contrastOf(grey) };
}

/**
 * The data-quality scan: features of SCAN_BACKBONE for images that lack them, perceptual hashes for images
 * that lack them (both cached, so a scan after an import does only the new images), then every pair compared and
 * outliers ranked. The pairs and ranks of the previous scan stay until this one has finished.
 */
export async function scanQuality(project: Project, opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {}): Promise<QualityScanSummary> {
  const started = performance.now();
  const progress = throttleProgress(opts.onProgress);
  const db = project.db;
  const repo = repoOf(db, QualityRepo);

  const extract = await extractFeatures(project, SCAN_BACKBONE, { signal: opts.signal, onProgress: opts.onProgress });
  const extractSeconds = (performance.now() - started) / 1000;

  const hashStart = performance.now();
  const todo = repo.imagesToHash();
  const failures: ImportProblem[] = [...extract.failures];
  let pending: { id: number; sha256: string; phash: Buffer; contrast: number }[] = [];
  let hashed = 0;
  await runPool(
    todo,
    Math.max(1, os.availableParallelism()),
    async (img) => {
      // The thumbnail is enough for a 32 x 32 hash and is decoded many times faster than a full photo.
      const file = img.thumb ? project.resolveInside(img.thumb) : project.resolveInside(img.path);
      try {
        // Awaited before `pending` is read: a batch flushed meanwhile would otherwise swallow the push.
        const { phash, contrast } = await perceptualHashes(file);
        pending.push({ id: img.id, sha256: img.sha256, phash, contrast });
        hashed++;
      } catch (err) {
        failures.push({ source: img.path, message: `could not hash: ${(err as Error).message}` });
      }
      if (pending.length >= HASH_BATCH) {
        repo.putHashes(pending);
        pending = [];
      }
      progress({ phase: 'hash', done: hashed + failures.length - extract.failures.length, total: todo.length, message: 'perceptual hashes' });
    },
    opts.signal,
  );
  repo.putHashes(pending);
  if (opts.signal?.aborted) throw new DermFuseError('CANCELLED', `Scan cancelled; the ${hashed} hashes computed are kept.`);
  const hashSeconds = (performance.now() - hashStart) / 1000;

  const pairStart = performance.now();
  const hashRows = repo.hashes();
  const n = hashRows.length;
  const hashes = new Uint32Array(n * (HASH_BYTES / 4));
  hashRows.forEach((r, i) => hashes.set(hashesFromBlob(r.phash), i * (HASH_BYTES / 4)));
  const bySha = new Map(
    repoOf(db, FeatureStore)
      .imageVectors(extract.key)
      .map((v) => [v.sha256, v.vector]),
  );
  const d = extract.dim;
  // An image whose features failed is compared by its hash alone.
  const present = Uint8Array.from(hashRows, (r) => (bySha.has(r.sha256) ? 1 : 0));
  const withFeatures = present.reduce((a, b) => a + b, 0);
  let features: { unit: Float32Array; d: number; present: Uint8Array } | null = null;
  if (withFeatures > 1) {
    const flat = new Float32Array(withFeatures * d);
    const rowOf = new Int32Array(n).fill(-1);
    let k = 0;
    hashRows.forEach((r, i) => {
      if (!present[i]) return;
      flat.set(bySha.get(r.sha256)!, k * d);
      rowOf[i] = k++;
    });
    const centred = centredUnitRows(flat, d);
    const unit = new Float32Array(n * d);
    rowOf.forEach((row, i) => row >= 0 && unit.set(centred.subarray(row * d, (row + 1) * d), i * d));
    features = { unit, d, present };
  }
  const scan = await scanPairs(n, hashes, features, {
    signal: opts.signal,
    onRows: (done, total) => progress({ phase: 'compare', done, total, message: 'comparing every pair' }),
  });
  const ids = hashRows.map((r) => r.image_id);
  // A blank frame (next to no contrast) is unlike any lesion photo whatever its features resemble: ranked first.
  const typ = scan.typicality?.map((t, i) => (hashRows[i]!.contrast < BLANK_CONTRAST ? -1 - hashRows[i]!.contrast / 255 : t)) ?? null;
  const order = typ
    ? ids
        .map((_, i) => i)
        .filter((i) => Number.isFinite(typ[i]))
        .sort((x, y) => typ[x]! - typ[y]!)
    : [];
  const outliers = outlierCount(order.length);
  const rank = new Map(order.map((i, r) => [i, r + 1]));
  repo.replaceScan(
    scan.pairs.map((p) => ({ a: ids[p.a]!, b: ids[p.b]!, hash_bits: p.hashBits, cosine: p.cosine, score: p.score })),
    ids.map((id, i) => ({ id, typicality: typ && Number.isFinite(typ[i]) ? typ[i]! : null, rank: rank.get(i) ?? null })),
  );
  const pairSeconds = (performance.now() - pairStart) / 1000;

  const groups = duplicateReport(project).groups.filter((g) => g.status !== 'dismissed');
  const count = (f: (g: DuplicateGroup) => boolean) => groups.filter(f).length;
  const summary: QualityScanSummary = {
    images: n,
    hashed,
    failures,
    featureKey: features ? extract.key : null,
    withoutFeatures: features ? n - withFeatures : n,
    pairs: scan.pairs.length,
    groups: groups.length,
    crossPatientGroups: count((g) => g.spansPatients),
    crossLesionGroups: count((g) => g.spansLesions),
    labelConflictGroups: count((g) => g.labelsDisagree),
    outliers,
    rule: RULE_TEXT,
    seconds: (performance.now() - started) / 1000,
    extractSeconds,
    hashSeconds,
    pairSeconds,
  };
  repoOf(db, SettingsRepo).set(SCAN_SETTING, JSON.stringify({ ...summary, failures: summary.failures.slice(0, 50), at: new Date().toISOString() }));
  log.info(`scan: ${n} images, ${summary.pairs} pairs in ${summary.groups} groups, ${summary.crossPatientGroups} across patients`);
  return summary;
}
