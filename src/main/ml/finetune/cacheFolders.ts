/**
 * The project's view caches as folders a person can see and remove: cache/finetune/NAME, each with what it caches
 * (`about.json`, rewritten when a run starts and touched when it ends, so its time is the last use) and a `use.PID`
 * file for each process running a fine-tuned run on it. Caches are never removed on their own: they are what makes a second
 * fine-tuned run of the same settings (other folds, epochs or fields) skip minutes of caching.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import { AUGMENTS, type Augment, type ViewCacheInfo } from '../../../shared/results.ts';
import { isInside } from '../../files/fsChecks.ts';

/** The files of a cache folder: viewCache.ts writes the records, their index, their shape and the fill lock. */
export const CACHE_FILES = { index: 'index.txt', data: 'views.f16', shape: 'shape.json', fillLock: 'fill.lock', about: 'about.json' } as const;
const { about: ABOUT, index: INDEX, fillLock: FILL_LOCK } = CACHE_FILES;
const USE = /^use\.(\d+)$/;
/** Folder names DermFuse writes: the backbone's name and a digest (letters, digits, . _ -; never a leading dot). */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export interface CacheAbout {
  backbone: string;
  cut: string;
  views: number;
  augment: Augment[];
}

export const viewCacheRoot = (projectDir: string): string => path.join(projectDir, 'cache', 'finetune');

/** Whether process `pid` is alive (EPERM: alive, owned by someone else). */
const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Use marks this process holds (a mark file's path, and how many of its runs hold it). */
const held = new Map<string, number>();

/**
 * The pid of another living process holding the fill lock `file`, or null: none, a dead one's (kill -9), this
 * process's own (a worker stopped on cancel: every fill here runs inside a marked run), or gone meanwhile.
 */
export function fillLockHolder(file: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid) ? pid : null;
}

/**
 * Living processes filling or using the cache in `dir`; the marks of dead ones are deleted on the way. This process
 * counts only by the marks it holds now: a mark of its pid that it does not hold was left by a crash (a restart can
 * get the same pid).
 */
function holders(dir: string): number[] {
  const pids: number[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  for (const n of names) {
    const file = path.join(dir, n);
    const m = USE.exec(n);
    if (m) {
      const pid = Number(m[1]);
      const living = pid === process.pid ? held.has(file) : processAlive(pid);
      if (living) pids.push(pid);
      else fs.rmSync(file, { force: true });
    } else if (n === FILL_LOCK) {
      const pid = fillLockHolder(file);
      if (pid !== null) pids.push(pid);
    }
  }
  return pids;
}

/**
 * Marks the cache in `dir` as used by this process until the returned function runs, and records what it caches;
 * the record's time is the last use. A process killed on the way leaves its mark behind: a dead pid's mark is
 * ignored and deleted.
 */
export function useViewCache(dir: string, about: CacheAbout): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const record = path.join(dir, ABOUT);
  fs.writeFileSync(record, JSON.stringify(about));
  const mark = path.join(dir, `use.${process.pid}`);
  fs.writeFileSync(mark, '');
  held.set(mark, (held.get(mark) ?? 0) + 1);
  return () => {
    const left = (held.get(mark) ?? 1) - 1;
    if (left > 0) return void held.set(mark, left);
    held.delete(mark);
    fs.rmSync(mark, { force: true });
    // A run stopped before caching anything (cancelled or failed in its frozen run) leaves no empty cache behind.
    if (!fs.existsSync(path.join(dir, INDEX)) && holders(dir).length === 0) return void fs.rmSync(dir, { recursive: true, force: true });
    try {
      const now = new Date();
      fs.utimesSync(record, now, now);
    } catch {
      // The cache was removed while in use elsewhere: nothing to date.
    }
  };
}

function readAbout(dir: string): { about: Partial<CacheAbout>; lastUsed: string | null } {
  const file = path.join(dir, ABOUT);
  try {
    const about = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CacheAbout>;
    return { about, lastUsed: fs.statSync(file).mtime.toISOString() };
  } catch {
    return { about: {}, lastUsed: null };
  }
}

/** Bytes under `dir`, links not followed; what vanishes meanwhile (a fill finishing, a removal) counts as 0. */
function folderBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

function countLines(file: string): number {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').length - 1;
  } catch {
    return 0;
  }
}

/** The project's view caches, most recently used first. */
export function listViewCaches(projectDir: string): ViewCacheInfo[] {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(viewCacheRoot(projectDir), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: ViewCacheInfo[] = [];
  // Real folders only (a link is not followed) and not one being removed (.removing-…).
  for (const e of entries) {
    if (!e.isDirectory() || !NAME.test(e.name)) continue;
    const dir = path.join(e.parentPath, e.name);
    const { about, lastUsed } = readAbout(dir);
    // First: it deletes the marks of dead processes, which are then not counted in the bytes.
    const busy = holders(dir).length > 0;
    out.push({
      name: e.name,
      backbone: typeof about.backbone === 'string' ? about.backbone : null,
      cut: typeof about.cut === 'string' ? about.cut : null,
      views: typeof about.views === 'number' ? about.views : null,
      augment: AUGMENTS.filter((a) => Array.isArray(about.augment) && about.augment.includes(a)),
      images: countLines(path.join(dir, INDEX)),
      bytes: folderBytes(dir),
      lastUsed,
      busy,
    });
  }
  return out.sort((a, b) => (b.lastUsed ?? '').localeCompare(a.lastUsed ?? '') || a.name.localeCompare(b.name));
}

function busyError(name: string, dir: string, pids: number[]): DermFuseError {
  const others = pids.filter((p) => p !== process.pid);
  return new DermFuseError(
    'BUSY',
    others.length === 0
      ? `The view cache ${name} is in use by the fine-tuned run going on here; remove it when the run has finished or been cancelled.`
      : `The view cache ${name} is in use by process ${others.join(', ')} (a fine-tuned run); remove it when that run has finished. If no DermFuse run is going on, that process is another program with a reused pid: delete ${others.map((p) => path.join(dir, `use.${p}`)).join(', ')} and remove the cache again.`,
  );
}

/**
 * Removes one view cache (`name` as listed), or refuses: a name that is not a cache folder of this project
 * (NOT_FOUND; nothing outside cache/finetune is reached, a link is not followed), or one a run is filling or using
 * (BUSY). The folder is first renamed out of the way, then checked again, so a run that marks it meanwhile keeps it
 * (renamed back) and a run starting after the rename caches afresh; nothing is left half deleted under its name.
 */
export function removeViewCache(projectDir: string, name: string): void {
  const root = viewCacheRoot(projectDir);
  const dir = path.join(root, name);
  if (!NAME.test(name) || !isInside(dir, root) || !fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new DermFuseError('NOT_FOUND', `No view cache "${name}" in this project (see dermfuse caches).`);
  const pids = holders(dir);
  if (pids.length > 0) throw busyError(name, dir, pids);
  const aside = path.join(root, `.removing-${name}-${process.pid}-${Date.now()}`);
  fs.renameSync(dir, aside);
  const late = holders(aside);
  if (late.length > 0) {
    if (!fs.existsSync(dir)) fs.renameSync(aside, dir);
    throw busyError(name, dir, late);
  }
  try {
    fs.rmSync(aside, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    throw new DermFuseError(
      'INTERNAL',
      `The view cache ${name} was set aside as ${aside} but could not be deleted: ${(e as Error).message}. Delete that folder by hand.`,
    );
  }
  // Folders set aside by a removal that was killed half way.
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const m = /^\.removing-.*-(\d+)-\d+$/.exec(e.name);
    if (e.isDirectory() && m && Number(m[1]) !== process.pid && !processAlive(Number(m[1])))
      fs.rmSync(path.join(root, e.name), { recursive: true, force: true });
  }
}
