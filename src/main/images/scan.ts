import fs from 'node:fs/promises';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';

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
 * (the project's own folder, when it sits inside the image folder) are passed over.
 */
export async function scanImages(root: string, skip: readonly string[] = []): Promise<ScannedFile[]> {
  const abs = path.resolve(root);
  const stat = await fs.stat(abs).catch(() => null);
  if (!stat) throw new DermFuseError('FILE_NOT_FOUND', `Image folder ${abs} does not exist.`);
  if (!stat.isDirectory()) throw new DermFuseError('INVALID_ARGUMENT', `${abs} is a file: --images takes a folder of images.`);
  const skipSet = new Set(skip.map((s) => path.resolve(s)));
  const out: ScannedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!skipSet.has(full)) await walk(full);
      } else if (e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
        const s = await fs.stat(full);
        out.push({ path: full, stem: path.basename(e.name, path.extname(e.name)), bytes: s.size, mtimeMs: Math.floor(s.mtimeMs) });
      }
    }
  };
  await walk(abs);
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** The id a CSV cell names: without folders and without an image extension (PAD says .png for .jpg files). */
export function idFromCell(cell: string): string {
  const base = cell.trim().split(/[\\/]/).pop() ?? '';
  const ext = path.extname(base).toLowerCase();
  return IMAGE_EXTENSIONS.has(ext) ? base.slice(0, -ext.length) : base;
}
