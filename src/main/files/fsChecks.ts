import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';

/**
 * Linux pseudo file systems (statfs magic numbers): proc, sysfs, cgroup, cgroup2, debugfs, securityfs, devpts,
 * tracefs, bpf, pstore, configfs, fusectl, binfmt_misc. Files there are not storage, and a recursive mkdir under
 * /proc never returns (Node spins on the EEXIST/ENOENT answers it gets there).
 */
const PSEUDO_FILE_SYSTEMS = new Set([
  0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x64626720, 0x73636673, 0x1cd1, 0x74726163, 0xcafe4a11, 0x6165676c, 0x62656570, 0x65735543, 0x42494e4d,
]);

function nearestExisting(abs: string): string {
  let dir = abs;
  while (!fs.existsSync(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/**
 * Refuses, at once and by name, a folder that cannot hold files: one under a file, on a pseudo file system, or
 * whose nearest existing parent is not writable. Call before creating folders for the user.
 */
export function checkWritableDir(dir: string, what: string): void {
  const abs = path.resolve(dir);
  const existing = nearestExisting(abs);
  if (!fs.statSync(existing).isDirectory()) throw new DermFuseError('INVALID_ARGUMENT', `${what} ${abs}: ${existing} is a file, not a folder.`);
  if (process.platform === 'linux' && PSEUDO_FILE_SYSTEMS.has(fs.statfsSync(existing).type)) {
    throw new DermFuseError('INVALID_ARGUMENT', `${what} ${abs}: ${existing} is a system pseudo file system, not storage; choose a folder on a disk.`);
  }
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `${what} ${abs}: ${code === 'EROFS' ? `${existing} is on a read-only file system` : `no permission to write in ${existing}`}; choose another folder.`,
    );
  }
}

/** `mkdir -p` after `checkWritableDir`. */
export function makeDirs(dir: string, what: string): void {
  checkWritableDir(dir, what);
  fs.mkdirSync(dir, { recursive: true });
}

/** A path with every symbolic link resolved (of its nearest existing ancestor, when it does not exist yet). */
export function realPath(p: string): string {
  const abs = path.resolve(p);
  const existing = nearestExisting(abs);
  return path.join(fs.realpathSync(existing), path.relative(existing, abs));
}

/**
 * The regular file a URL path names below `root` (`/` is index.html), or null when it escapes `root`, does not exist
 * or is not a file. `urlPath` is decoded and starts with `/`.
 */
export function fileBelow(root: string, urlPath: string): string | null {
  const base = path.resolve(root);
  const file = path.resolve(base, `.${urlPath === '/' ? '/index.html' : urlPath}`);
  return isInside(file, base) && fs.existsSync(file) && fs.statSync(file).isFile() ? file : null;
}

/** True when `child` is `parent` or lies below it (compare real paths to see through links). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Size caps for files read whole into memory. Model files: 2 GB, under the most `fs.readFile` reads (2 GiB - 1)
 * and above the largest backbone DermFuse runs (a ViT-L is 1.2 GB). JSON (model.json, sidecars, bundle
 * manifests): 16 MiB is a hundred times a real one, and parsing it stays under a tenth of a second.
 */
export const MAX_MODEL_BYTES = 2e9;
export const MAX_JSON_BYTES = 16 * 2 ** 20;

/** Streaming hashes read this much at a time: few enough event-loop turns, none of them long. */
const HASH_CHUNK_BYTES = 2 ** 20;

/** `n` bytes as a person reads them (41 MB, 2.1 GB). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} bytes`;
  const [div, unit] = n < 1e6 ? [1e3, 'kB'] : n < 1e9 ? [1e6, 'MB'] : [1e9, 'GB'];
  return `${Number((n / div).toFixed(1))} ${unit}`;
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'a special file';
}

function requireRegular(st: fs.Stats, what: string, maxBytes: number | undefined): void {
  if (st.isDirectory()) throw new DermFuseError('INVALID_VALUE', `${what} is a folder, not a file.`);
  if (!st.isFile()) throw new DermFuseError('INVALID_VALUE', `${what} is not a regular file (it is ${kindOf(st)}): DermFuse reads plain files only.`);
  if (maxBytes !== undefined && st.size > maxBytes) {
    throw new DermFuseError('INVALID_VALUE', `${what} is ${formatBytes(st.size)}, more than the ${formatBytes(maxBytes)} DermFuse reads for such a file.`);
  }
}

function unreadable(err: unknown, what: string): DermFuseError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DermFuseError('FILE_NOT_FOUND', `${what} does not exist.`);
  if (code === 'ELOOP') return new DermFuseError('INVALID_VALUE', `${what} is a symbolic link, which is not followed here.`);
  return new DermFuseError('FILE_NOT_FOUND', `Cannot read ${what}: ${code === 'EACCES' ? 'no permission to read it' : (err as Error).message}.`);
}

/**
 * Opens a file for reading only when it is a regular file of at most `maxBytes`. Checked by path first, so a FIFO
 * is never opened (opening one waits for a writer, and a read on it never ends); then opened non-blocking and
 * checked again on the descriptor, so a file swapped for a FIFO or a device in between is refused without waiting.
 * `what` names the file in messages ("Bundle /x: backbone/weights.bin").
 */
export async function openRegularFile(
  file: string,
  what: string,
  maxBytes?: number,
  opts: { noFollow?: boolean } = {},
): Promise<{ handle: fs.promises.FileHandle; size: number }> {
  const stat = opts.noFollow ? fs.promises.lstat : fs.promises.stat;
  requireRegular(await stat(file).catch((err: unknown) => Promise.reject(unreadable(err, what))), what, maxBytes);
  // noFollow: a final symbolic link (one swapped in since the check, too) is refused by the open itself (ELOOP).
  const flags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (opts.noFollow ? (fs.constants.O_NOFOLLOW ?? 0) : 0);
  const handle = await fs.promises.open(file, flags).catch((err: unknown) => Promise.reject(unreadable(err, what)));
  try {
    const st = await handle.stat();
    requireRegular(st, what, maxBytes);
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Up to `n` bytes from the start of an open file (fewer when it is shorter), read off the event loop. */
async function readUpTo(handle: fs.promises.FileHandle, n: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(n);
  let done = 0;
  while (done < n) {
    const { bytesRead } = await handle.read(buf, done, n - done, done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** A regular file read whole (asynchronously), refused by name when it is not one or is larger than `maxBytes`. */
export async function readRegularFile(file: string, what: string, maxBytes: number): Promise<Buffer> {
  const { handle, size } = await openRegularFile(file, what, maxBytes);
  try {
    return await readUpTo(handle, size);
  } finally {
    await handle.close();
  }
}

/** The first `maxBytes` of a regular file (all of it when shorter) and its whole size: a preview of a large file. */
export async function readRegularHead(file: string, what: string, maxBytes: number): Promise<{ bytes: Buffer; size: number }> {
  const { handle, size } = await openRegularFile(file, what);
  try {
    return { bytes: await readUpTo(handle, Math.min(size, maxBytes)), size };
  } finally {
    await handle.close();
  }
}

/** A regular file's JSON (at most `maxBytes`), with a message naming the file when it is not JSON. */
export async function readJsonFile(file: string, what: string, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  const text = (await readRegularFile(file, what, maxBytes)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DermFuseError('INVALID_VALUE', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The SHA-256 of a regular file, streamed in chunks: any size, and the event loop keeps serving meanwhile. */
export async function sha256OfFile(file: string, what: string): Promise<string> {
  const { handle } = await openRegularFile(file, what);
  const hash = createHash('sha256');
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: HASH_CHUNK_BYTES, autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}
