import fs from 'node:fs/promises';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { ImportProblem } from '../../shared/types.ts';
import { isInside } from './fsChecks.ts';

/** Refuse to decode images above this many pixels (decompression bombs); 16k x 16k covers dermoscopy scanners. */
export const MAX_INPUT_PIXELS = 16384 * 16384;

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp']);

export interface ScannedFile {
  path: string;
  /** File name without its extension: the image id a CSV refers to. */
  stem: string;
  bytes: number;
  mtimeMs: number;
}

/**
 * Lists image files below `root` (recursively, sorted by path). Hidden entries and any folder in `skip`
 * (the project's own folder, when it sits inside the image folder) are passed over. Symbolic links are followed
 * only when they point inside the image folder; every other link is reported in `problems` (outside, broken, loop).
 */
export async function scanImages(root: string, skip: readonly string[] = [], problems: ImportProblem[] = []): Promise<ScannedFile[]> {
  const abs = path.resolve(root);
  const stat = await fs.stat(abs).catch(() => null);
  if (!stat) throw new DermFuseError('FILE_NOT_FOUND', `Image folder ${abs} does not exist.`);
  if (!stat.isDirectory()) throw new DermFuseError('INVALID_ARGUMENT', `${abs} is a file: choose the folder that holds the images.`);
  const realRoot = await fs.realpath(abs);
  const skipSet = new Set(skip.map((s) => path.resolve(s)));
  const visited = new Set<string>([realRoot]);
  const out: ScannedFile[] = [];
  const addFile = async (full: string, name: string): Promise<void> => {
    if (!IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())) return;
    const s = await fs.stat(full);
    out.push({ path: full, stem: path.basename(name, path.extname(name)), bytes: s.size, mtimeMs: Math.floor(s.mtimeMs) });
  };
  const followLink = async (full: string, name: string): Promise<void> => {
    const target = await fs.realpath(full).catch(() => null);
    if (target === null) return void problems.push({ source: full, message: 'broken symbolic link; skipped' });
    if (!isInside(target, realRoot))
      return void problems.push({ source: full, message: `symbolic link to ${target}, outside the image folder; skipped (links are followed only inside it)` });
    const s = await fs.stat(target);
    if (s.isDirectory()) {
      if (visited.has(target) || skipSet.has(target))
        return void problems.push({ source: full, message: 'symbolic link to a folder already scanned (a loop or a second path); skipped' });
      await walk(full, target);
    } else if (s.isFile()) await addFile(full, name);
  };
  const walk = async (dir: string, real: string): Promise<void> => {
    visited.add(real);
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isSymbolicLink()) await followLink(full, e.name);
      else if (e.isDirectory()) {
        if (!skipSet.has(full)) await walk(full, path.join(real, e.name));
      } else if (e.isFile()) await addFile(full, e.name);
    }
  };
  await walk(abs, realRoot);
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** The id a CSV cell names: without folders and without an image extension (PAD says .png for .jpg files). */
export function idFromCell(cell: string): string {
  const base = cell.trim().split(/[\\/]/).pop() ?? '';
  const ext = path.extname(base).toLowerCase();
  return IMAGE_EXTENSIONS.has(ext) ? base.slice(0, -ext.length) : base;
}
