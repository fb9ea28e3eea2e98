import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import { readRegularFile, sha256OfFile } from '../../files/fsChecks.ts';
import type { ProgressFn } from '../../jobs/progress.ts';
import { readModelJson } from '../tfjs/modelFiles.ts';

/** The file listing the digest a cached model was verified (or first downloaded) with. */
const DIGEST_FILE = 'dermfuse-digest.txt';

/**
 * Digest of a TF.js model: SHA-256 over `name sha256(file)` lines of model.json and every weight file in manifest
 * order. One string pins the topology and all weights.
 */
function digestOfLines(files: { name: string; sha256: string }[]): string {
  return createHash('sha256')
    .update(files.map((f) => `${f.name} ${f.sha256}\n`).join(''))
    .digest('hex');
}

/** Digest of a downloaded model held in memory (see digestOfLines). */
export function modelDigest(files: { name: string; bytes: Buffer }[]): string {
  return digestOfLines(files.map((f) => ({ name: f.name, sha256: createHash('sha256').update(f.bytes).digest('hex') })));
}

/** Digest of a model folder on disk, each file streamed (a weight file may be large, or not a file at all). */
export async function folderDigest(dir: string): Promise<string> {
  const json = await readModelJson(dir);
  const names = ['model.json', ...json.weightsManifest.flatMap((g) => g.paths)];
  const files = [];
  for (const name of names) files.push({ name, sha256: await sha256OfFile(path.join(dir, name), path.join(dir, name)) });
  return digestOfLines(files);
}

/** The digest recorded beside a cached model at its first download; null when none was. */
async function recordedDigest(file: string): Promise<string | null> {
  if (!fs.existsSync(file)) return null;
  return (await readRegularFile(file, file, 1024)).toString('utf8').trim();
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  fetchImpl?: typeof fetch;
}

async function fetchBytes(url: string, opts: DownloadOptions, onChunk: (n: number) => void): Promise<Buffer> {
  const res = await (opts.fetchImpl ?? fetch)(url, { signal: opts.signal }).catch((err: Error) => {
    if (err.name === 'AbortError') throw err;
    throw new DermFuseError('FILE_NOT_FOUND', `Cannot download ${url}: ${err.message}`);
  });
  if (!res.ok || !res.body) throw new DermFuseError('FILE_NOT_FOUND', `Cannot download ${url}: HTTP ${res.status}`);
  const chunks: Buffer[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
    onChunk(chunk.length);
  }
  return Buffer.concat(chunks);
}

/**
 * Downloads a TF.js model (model.json + weight files) into `dir`, checking the digest when one is given.
 * Nothing appears at `dir` unless every file arrived and matched: files land in a temporary folder first.
 * Returns the digest. Abort with the signal; a cached folder is used without network (checked against its digest).
 */
export async function ensureModel(url: string, dir: string, expectedDigest: string | null, opts: DownloadOptions = {}): Promise<string> {
  if (fs.existsSync(path.join(dir, 'model.json'))) {
    const recorded = await recordedDigest(path.join(dir, DIGEST_FILE));
    const actual = await folderDigest(dir);
    const wanted = expectedDigest ?? recorded;
    if (!wanted || wanted === actual) return actual;
    throw new DermFuseError(
      'INVALID_VALUE',
      `The cached model in ${dir} does not match its checksum (files changed or damaged). Delete the folder to download it again.`,
    );
  }
  const tmp = `${dir}.partial-${randomUUID()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    let received = 0;
    const report = (total: number) => (n: number) => {
      received += n;
      opts.onProgress?.({ phase: 'download', done: received, total, message: url });
    };
    const modelJson = await fetchBytes(url, opts, report(0));
    const json = JSON.parse(modelJson.toString('utf8')) as { weightsManifest?: { paths: string[] }[] };
    if (!Array.isArray(json.weightsManifest)) throw new DermFuseError('INVALID_VALUE', `${url} is not a TF.js model.json (no weightsManifest).`);
    const names = json.weightsManifest.flatMap((g) => g.paths);
    for (const name of names) {
      if (name.includes('..') || path.isAbsolute(name)) throw new DermFuseError('INVALID_VALUE', `${url} names a weight file outside its folder: ${name}`);
    }
    const files = [{ name: 'model.json', bytes: modelJson }];
    for (const name of names) files.push({ name, bytes: await fetchBytes(new URL(name, url).toString(), opts, report(0)) });
    const digest = modelDigest(files);
    if (expectedDigest && digest !== expectedDigest) {
      throw new DermFuseError(
        'INVALID_VALUE',
        `Checksum mismatch for ${url}: expected ${expectedDigest.slice(0, 12)}…, got ${digest.slice(0, 12)}…. The download was discarded.`,
      );
    }
    for (const f of files) fs.writeFileSync(path.join(tmp, f.name), f.bytes);
    fs.writeFileSync(path.join(tmp, DIGEST_FILE), `${digest}\n`);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(tmp, dir);
    return digest;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Downloads one ONNX model file to `dir/model.onnx`: streamed to disk with progress, resumed from where an
 * interrupted or cancelled download stopped (an HTTP Range request; a server that ignores it starts over), and kept
 * only when its SHA-256 matches the pinned one, or, with none pinned, the one recorded at the first download.
 * Returns the SHA-256.
 */
export async function ensureOnnxFile(url: string, dir: string, expectedSha256: string | null, opts: DownloadOptions = {}): Promise<string> {
  const file = path.join(dir, 'model.onnx');
  const recordedFile = path.join(dir, DIGEST_FILE);
  if (fs.existsSync(file)) {
    const recorded = await recordedDigest(recordedFile);
    const actual = await sha256OfFile(file, file);
    const wanted = expectedSha256 ?? recorded;
    if (!wanted || wanted === actual) return actual;
    throw new DermFuseError('INVALID_VALUE', `The cached model ${file} does not match its checksum (changed or damaged). Delete it to download it again.`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${file}.partial`;
  const have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
  const res = await (opts.fetchImpl ?? fetch)(url, { signal: opts.signal, headers: have > 0 ? { Range: `bytes=${have}-` } : {} }).catch((err: Error) => {
    if (err.name === 'AbortError') throw new DermFuseError('CANCELLED', `Download of ${url} cancelled; the next attempt continues from ${have} bytes.`);
    throw new DermFuseError('FILE_NOT_FOUND', `Cannot download ${url}: ${err.message}`);
  });
  if (res.status === 416 && have > 0) {
    fs.rmSync(partial, { force: true });
    return ensureOnnxFile(url, dir, expectedSha256, opts);
  }
  if (!res.ok || !res.body) throw new DermFuseError('FILE_NOT_FOUND', `Cannot download ${url}: HTTP ${res.status}`);
  const resumed = res.status === 206 && have > 0;
  const start = resumed ? have : 0;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? start + length : 0;
  const out = fs.createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
  let received = start;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      received += chunk.length;
      opts.onProgress?.({ phase: 'download', done: received, total, message: url });
    }
  } catch (err) {
    await new Promise((r) => out.end(r));
    if ((err as Error).name === 'AbortError' || opts.signal?.aborted)
      throw new DermFuseError('CANCELLED', `Download of ${url} cancelled after ${received} bytes; the next attempt continues from there.`);
    throw new DermFuseError(
      'FILE_NOT_FOUND',
      `Download of ${url} broke off after ${received} bytes (${(err as Error).message}); the next attempt continues from there.`,
    );
  }
  await new Promise((r) => out.end(r));
  const digest = await sha256OfFile(partial, partial);
  if (expectedSha256 && digest !== expectedSha256) {
    fs.rmSync(partial, { force: true });
    throw new DermFuseError(
      'INVALID_VALUE',
      `Checksum mismatch for ${url}: expected ${expectedSha256.slice(0, 12)}…, got ${digest.slice(0, 12)}…. The download was discarded.`,
    );
  }
  fs.writeFileSync(recordedFile, `${digest}\n`);
  fs.renameSync(partial, file);
  return digest;
}
