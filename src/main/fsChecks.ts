import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../shared/errors.ts';

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
