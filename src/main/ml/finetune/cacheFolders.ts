/**
 * The project's view caches as folders a person can see and remove: cache/finetune/NAME, each with what it caches
 * (`about.json`, rewritten by every run that uses it, so its time is the last use) and a `use.PID` file for each
 * process running a fine-tuned run on it. Caches are never removed on their own: they are what makes a second
 * fine-tuned run of the same settings (other folds, epochs or fields) skip minutes of caching.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import { AUGMENTS, type Augment, type ViewCacheInfo } from '../../../shared/results.ts';
import { isInside } from '../../files/fsChecks.ts';

const ABOUT = 'about.json';
const INDEX = 'index.txt';
const FILL_LOCK = 'fill.lock';
const USE = /^use\.(\d+)$/;
/** Folder names DermFuse writes: the backbone's name (letters, digits, . _ -) and a digest. */
const NAME = /^[A-Za-z0-9._-]{1,200}$/;

export interface CacheAbout {
  backbone: string;
  cut: string;
  views: number;
  augment: Augment[];
}

export const viewCacheRoot = (projectDir: string): string => path.join(projectDir, 'cache', 'finetune');

/** Whether process `pid` is alive (EPERM: alive, owned by someone else). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Living processes filling or using the cache in `dir`. This process counts only by its use mark: a fill lock of
 * its own is a worker's that was stopped on cancel, and every fill here runs inside a run that holds the mark.
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
    const m = USE.exec(n);
    const pid = m ? Number(m[1]) : n === FILL_LOCK ? Number(fs.readFileSync(path.join(dir, n), 'utf8')) : NaN;
    if (Number.isInteger(pid) && pid > 0 && (pid === process.pid ? n !== FILL_LOCK : processAlive(pid))) pids.push(pid);
  }
  return pids;
}

/**
 * Marks the cache in `dir` as used by this process until the returned function runs, and records what it caches
 * and when it was last used. A process killed on the way leaves its mark behind; a dead pid's mark is ignored.
 */
export function useViewCache(dir: string, about: CacheAbout): () => void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, ABOUT), JSON.stringify(about));
  const mark = path.join(dir, `use.${process.pid}`);
  fs.writeFileSync(mark, '');
  return () => fs.rmSync(mark, { force: true });
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

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? folderBytes(p) : e.isFile() ? fs.statSync(p).size : 0;
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
  const root = viewCacheRoot(projectDir);
  if (!fs.existsSync(root)) return [];
  const out: ViewCacheInfo[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory() || !NAME.test(e.name)) continue;
    const dir = path.join(root, e.name);
    const { about, lastUsed } = readAbout(dir);
    out.push({
      name: e.name,
      backbone: typeof about.backbone === 'string' ? about.backbone : null,
      cut: typeof about.cut === 'string' ? about.cut : null,
      views: typeof about.views === 'number' ? about.views : null,
      augment: AUGMENTS.filter((a) => Array.isArray(about.augment) && about.augment.includes(a)),
      images: countLines(path.join(dir, INDEX)),
      bytes: folderBytes(dir),
      lastUsed,
      busy: holders(dir).length > 0,
    });
  }
  return out.sort((a, b) => (b.lastUsed ?? '').localeCompare(a.lastUsed ?? '') || a.name.localeCompare(b.name));
}

/**
 * Removes one view cache (`name` as listed), or refuses: a name that is not a cache folder of this project
 * (NOT_FOUND; nothing outside cache/finetune is ever reached), or one a run is filling or using (BUSY).
 */
export function removeViewCache(projectDir: string, name: string): void {
  const root = viewCacheRoot(projectDir);
  const dir = path.join(root, name);
  if (!NAME.test(name) || name === '.' || name === '..' || !isInside(dir, root) || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new DermFuseError('NOT_FOUND', `No view cache "${name}" in this project (see dermfuse caches).`);
  const pids = holders(dir);
  if (pids.length > 0)
    throw new DermFuseError(
      'BUSY',
      `The view cache ${name} is in use by a fine-tuned run${pids.includes(process.pid) ? '' : ` in another DermFuse process (pid ${pids.join(', ')})`}; remove it when the run has finished or been cancelled.`,
    );
  fs.rmSync(dir, { recursive: true, force: true });
}
