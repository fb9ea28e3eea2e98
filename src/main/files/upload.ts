import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DermFuseError } from '../../shared/errors.ts';
import type { UploadBatch, UploadDone, UploadFile } from '../../shared/types.ts';
import { isInside } from './fsChecks.ts';
import { IMAGE_EXTENSIONS } from './imageFiles.ts';
import { uploadNameProblem } from '../../shared/uploadNames.ts';

/** One request carries at most this much of a file: each piece arrives well within the server's request timeout. */
export const UPLOAD_CHUNK_BYTES = 4 << 20;
/** The largest photo (or CSV) taken: dermoscopy scanners write up to ~100 MB TIFFs. */
export const MAX_UPLOAD_FILE_BYTES = 256 << 20;
/** Files in one upload (their list must fit the API's 1 MB request). */
export const MAX_UPLOAD_FILES = 12_000;
/** What an upload must leave free on the project's disk. */
const FREE_MARGIN_BYTES = 1 << 30;
/** The folder below the project that uploads go to, one sub-folder per upload. */
export const UPLOADS_DIR = 'uploads';

/**
 * The relative path of an uploaded file, checked: folders and a name (no "..", ".", hidden or empty parts, no
 * drive letters or backslashes), at most 16 deep, ending in an image type or .csv. Returns the parts.
 */
export function uploadParts(rel: string): string[] {
  const parts = rel.split('/');
  const bad = (why: string) => new DermFuseError('INVALID_ARGUMENT', `Upload ${JSON.stringify(rel.slice(0, 300))}: ${why}.`);
  const problem = uploadNameProblem(rel);
  if (problem) throw bad(problem);
  const ext = path.extname(parts.at(-1)!).toLowerCase();
  if (!IMAGE_EXTENSIONS.has(ext) && ext !== '.csv') throw bad(`only photos (${[...IMAGE_EXTENSIONS].join(' ')}) and .csv files are uploaded`);
  return parts;
}

interface Batch {
  dir: string;
  files: Map<string, { size: number; received: number; done: boolean; busy: boolean }>;
}

/**
 * Uploads into the open project (`serve`): a batch is declared first (every file's path and size: checked against
 * the caps and the free disk space), then each file arrives in pieces of at most UPLOAD_CHUNK_BYTES, in order, each
 * appended at the offset it names (a piece sent again after a lost answer is refused, not appended twice). A file
 * is written as `NAME.part` and renamed once complete, so an interrupted upload never leaves a photo that looks
 * whole. Discarding an unfinished batch removes its folder.
 */
export class Uploads {
  private readonly batches = new Map<string, Batch>();

  constructor(
    private readonly projectDir: string,
    readonly maxBatchBytes: number,
  ) {}

  begin(files: readonly UploadFile[]): UploadBatch {
    if (files.length === 0) throw new DermFuseError('INVALID_ARGUMENT', 'Choose a folder with photos (or a CSV) to upload.');
    if (files.length > MAX_UPLOAD_FILES)
      throw new DermFuseError('INVALID_ARGUMENT', `An upload takes at most ${MAX_UPLOAD_FILES} files: upload the folder in parts.`);
    const seen = new Set<string>();
    let total = 0;
    for (const f of files) {
      uploadParts(f.path);
      // Two names that differ only in case are one file on the disks of most desktops.
      if (seen.has(f.path.toLowerCase())) throw new DermFuseError('INVALID_ARGUMENT', `Upload ${f.path}: named twice.`);
      seen.add(f.path.toLowerCase());
      if (f.size > MAX_UPLOAD_FILE_BYTES)
        throw new DermFuseError('INVALID_ARGUMENT', `Upload ${f.path}: ${mb(f.size)}, above the ${mb(MAX_UPLOAD_FILE_BYTES)} a file may have.`);
      total += f.size;
    }
    if (total > this.maxBatchBytes)
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `The upload is ${mb(total)}, above the ${mb(this.maxBatchBytes)} this server takes at once (dermfuse serve --max-upload): upload it in parts.`,
      );
    const root = path.join(this.projectDir, UPLOADS_DIR);
    fs.mkdirSync(root, { recursive: true });
    const disk = fs.statfsSync(root);
    const free = Number(disk.bavail) * Number(disk.bsize);
    if (total + FREE_MARGIN_BYTES > free)
      throw new DermFuseError('INVALID_ARGUMENT', `The upload is ${mb(total)} and the project's disk has ${mb(free)} free: make room first.`);
    const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
    const dir = path.join(root, id);
    fs.mkdirSync(dir);
    this.batches.set(id, { dir, files: new Map(files.map((f) => [f.path, { size: f.size, received: 0, done: false, busy: false }])) });
    return { id, dir, chunkBytes: UPLOAD_CHUNK_BYTES };
  }

  /** Appends one piece of a declared file at `offset`; answers how much of the file has arrived. */
  async receive(id: string, rel: string, offset: number, length: number, body: Readable): Promise<{ received: number; complete: boolean }> {
    const batch = this.batches.get(id);
    if (!batch) throw new DermFuseError('NOT_FOUND', `Upload ${id} is not under way (finished, discarded, or the server restarted): start the upload again.`);
    const file = batch.files.get(rel);
    if (!file) throw new DermFuseError('INVALID_ARGUMENT', `Upload ${rel}: not one of the files this upload declared.`);
    if (file.done) throw new DermFuseError('INVALID_ARGUMENT', `Upload ${rel}: it has arrived whole already.`);
    if (file.busy) throw new DermFuseError('BUSY', `Upload ${rel}: a piece of it is arriving already.`);
    if (offset !== file.received)
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `Upload ${rel}: the piece starts at byte ${offset}, but ${file.received} bytes have arrived: send from there.`,
      );
    if (length > UPLOAD_CHUNK_BYTES || offset + length > file.size || (length === 0 && file.size > 0))
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `Upload ${rel}: a piece of ${length} bytes at ${offset} does not fit a ${file.size}-byte file in pieces of ${UPLOAD_CHUNK_BYTES}.`,
      );
    const final = path.join(batch.dir, ...uploadParts(rel));
    if (!isInside(final, batch.dir)) throw new DermFuseError('FORBIDDEN', `Upload ${rel}: outside the upload's folder.`);
    const part = `${final}.part`;
    file.busy = true;
    try {
      fs.mkdirSync(path.dirname(final), { recursive: true });
      const out = fs.createWriteStream(part, { flags: offset === 0 ? 'w' : 'a' });
      await pipeline(body, out);
      const got = out.bytesWritten;
      if (got !== length) {
        // The connection ended early: what arrived of this piece is cut off again, so the piece can be sent anew.
        fs.truncateSync(part, offset);
        throw new DermFuseError('INVALID_ARGUMENT', `Upload ${rel}: ${got} of the piece's ${length} bytes arrived: send it again.`);
      }
      file.received += got;
      if (file.received === file.size) {
        fs.renameSync(part, final);
        file.done = true;
      }
      return { received: file.received, complete: file.done };
    } catch (err) {
      if (fs.existsSync(part)) fs.truncateSync(part, offset);
      if (err instanceof DermFuseError) throw err;
      // The connection broke mid-piece (the browser's tab closed, the network dropped): the client's to resend.
      if (body.destroyed || (err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).message === 'aborted')
        throw new DermFuseError('INVALID_ARGUMENT', `Upload ${rel}: the connection broke during the piece at byte ${offset}: send it again.`);
      throw err;
    } finally {
      file.busy = false;
    }
  }

  /** Ends a batch whose files have all arrived: its folder and the CSV files in it, ready for the import. */
  finish(id: string): UploadDone {
    const batch = this.batches.get(id);
    if (!batch) throw new DermFuseError('NOT_FOUND', `Upload ${id} is not under way: start the upload again.`);
    const missing = [...batch.files].filter(([, f]) => !f.done).map(([p]) => p);
    if (missing.length > 0)
      throw new DermFuseError('INVALID_ARGUMENT', `${missing.length} files have not fully arrived (first: ${missing[0]}): resume or discard the upload.`);
    this.batches.delete(id);
    const paths = [...batch.files.keys()];
    return {
      dir: batch.dir,
      images: paths.filter((p) => !p.toLowerCase().endsWith('.csv')).length,
      csvFiles: paths.filter((p) => p.toLowerCase().endsWith('.csv')).map((p) => path.join(batch.dir, ...uploadParts(p))),
    };
  }

  /** Removes an unfinished batch and its folder (a finished one may hold photos a project already imported). */
  discard(id: string): void {
    const batch = this.batches.get(id);
    if (!batch) throw new DermFuseError('NOT_FOUND', `Upload ${id} is not under way: nothing to discard.`);
    if ([...batch.files.values()].some((f) => f.busy)) throw new DermFuseError('BUSY', 'A piece is arriving: wait for it, then discard.');
    this.batches.delete(id);
    fs.rmSync(batch.dir, { recursive: true, force: true });
  }
}

function mb(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GB` : `${(bytes / (1 << 20)).toFixed(1)} MB`;
}
