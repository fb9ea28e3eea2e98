import fs from 'node:fs';
import { contentTypeOf } from '../files/contentTypes.ts';
import { repoOf } from '../db/open.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import { ImportsRepo } from '../db/repos/importsRepo.ts';
import { isInside, openRegularFile } from '../files/fsChecks.ts';
import { DermFuseError } from '../../shared/errors.ts';
import { logger } from '../log.ts';
import type { Project } from '../project.ts';

const log = logger('media');

/** No photo or thumbnail is this large (imports refuse images over 16384² pixels); a bigger file is not an image. */
export const MAX_MEDIA_BYTES = 512e6;

export interface OpenedMedia {
  handle: fs.promises.FileHandle;
  size: number;
  contentType: string;
}

/**
 * Opens the file behind an image of the open project, by its numeric id only: a request can name no path. The file
 * is checked when it is served, not only when it was imported, since it may have been swapped since:
 * - its real path (links resolved) must lie inside one of `roots.images` (real paths, resolved once when the server
 *   first needed them, so a folder swapped for a link later does not move them; null: anywhere, the desktop's own
 *   disk); a thumbnail inside `roots.thumbnails`;
 * - it is opened without following a final link (a link swapped in between is refused) and must be a regular file
 *   (fstat: no FIFO, device or socket) of at most MAX_MEDIA_BYTES.
 * Null (and a warning in the log) when there is no such readable image or its file fails a check.
 */
/** Where served photos may lie, as real paths (images: null = anywhere, the desktop), and the thumbnails folder. */
export interface MediaRoots {
  images: string[] | null;
  thumbnails: string;
}

/** The folders a project's photos may come from besides any the server adds: the project's own and its import folders. */
export function projectPhotoFolders(project: Project): string[] {
  return [project.dir, ...repoOf(project.db, ImportsRepo).imageFolders()];
}

export async function openMedia(project: Project, kind: 'thumb' | 'image', idText: string, roots: MediaRoots): Promise<OpenedMedia | null> {
  if (!/^\d{1,12}$/.test(idText)) return null;
  const row = repoOf(project.db, ImagesRepo).readableFile(Number(idText));
  if (!row) return null;
  let file: string;
  let contentType: string;
  let allowed: string[] | null;
  if (kind === 'thumb') {
    if (!row.thumb) return null;
    file = project.resolveInside(row.thumb);
    contentType = 'image/jpeg';
    allowed = [roots.thumbnails];
  } else {
    // Only raster image types: never a page or script (or an SVG, which can carry one) from an image row.
    const found = contentTypeOf(row.path);
    if (!found?.startsWith('image/') || found === 'image/svg+xml') return null;
    file = row.path;
    contentType = found;
    allowed = roots.images;
  }
  const refuse = (why: string) => {
    log.warn(`refused ${kind} of image ${idText}: ${why}`);
    return null;
  };
  const real = await fs.promises.realpath(file).catch(() => null);
  if (real === null) return null;
  if (allowed !== null && !allowed.some((r) => isInside(real, r))) return refuse(`${file} resolves to ${real}, outside the folders this server may read`);
  try {
    const { handle, size } = await openRegularFile(real, `${file} (${real})`, MAX_MEDIA_BYTES, { noFollow: true });
    return { handle, size, contentType };
  } catch (err) {
    if (err instanceof DermFuseError && err.code !== 'FILE_NOT_FOUND') return refuse(err.message);
    return null;
  }
}

/** Reads an opened media file whole and closes it. */
export async function readMedia(m: OpenedMedia): Promise<Buffer> {
  try {
    return await m.handle.readFile();
  } finally {
    await m.handle.close();
  }
}
