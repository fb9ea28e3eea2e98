import fs from 'node:fs/promises';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { FolderListing } from '../../shared/types.ts';
import { isInside, realPath } from '../files/fsChecks.ts';
import { IMAGE_EXTENSIONS } from '../files/imageFiles.ts';

/** A listing stops here: a folder of a dataset can hold 30 000 photos, and the picker only needs to find its way. */
const MAX_ENTRIES = 500;

/**
 * The folder picker of `serve`: the allowed data folders, or one folder inside them with its sub-folders, CSV files
 * and a count of its images. A path outside the roots (also through a symbolic link or "..") is refused.
 */
export async function browseFolder(roots: readonly string[], dir: string | undefined): Promise<FolderListing> {
  if (roots.length === 0) throw new DermFuseError('UNSUPPORTED', 'This server was started without data folders: ask whoever runs it to add --data FOLDER.');
  if (dir === undefined || dir === '') {
    return { dir: null, parent: null, roots: [...roots], folders: [...roots], csvFiles: [], images: 0, truncated: false };
  }
  const real = realPath(dir);
  const root = roots.map((r) => ({ r, real: realPath(r) })).find((x) => isInside(real, x.real));
  if (!root) throw new DermFuseError('FORBIDDEN', `${dir} is outside the data folders this server may read: choose a folder below one of them.`);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(real, { withFileTypes: true });
  } catch {
    throw new DermFuseError('FILE_NOT_FOUND', `${dir} cannot be read: choose another folder.`);
  }
  const folders: string[] = [];
  const csvFiles: string[] = [];
  let images = 0;
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(real, e.name);
    if (e.isDirectory()) folders.push(full);
    else if (e.isFile() && e.name.toLowerCase().endsWith('.csv')) csvFiles.push(full);
    else if (e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) images++;
  }
  return {
    dir: real,
    parent: real === root.real ? null : path.dirname(real),
    roots: [...roots],
    folders: folders.slice(0, MAX_ENTRIES),
    csvFiles: csvFiles.slice(0, MAX_ENTRIES),
    images,
    truncated: folders.length > MAX_ENTRIES || csvFiles.length > MAX_ENTRIES,
  };
}
