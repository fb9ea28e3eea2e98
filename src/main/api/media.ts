import fs from 'node:fs';
import { contentTypeOf } from '../contentTypes.ts';
import { repoOf } from '../db/open.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import type { Project } from '../project.ts';

export interface MediaFile {
  file: string;
  contentType: string;
}

/**
 * The file behind an image of the open project, by its numeric id only: a request can name no path, so nothing
 * outside the project's own images and thumbnails can be read. Null when there is no such (readable) image.
 */
export function mediaFile(project: Project, kind: 'thumb' | 'image', idText: string): MediaFile | null {
  if (!/^\d{1,12}$/.test(idText)) return null;
  const row = repoOf(project.db, ImagesRepo).readableFile(Number(idText));
  if (!row) return null;
  if (kind === 'thumb') {
    if (!row.thumb) return null;
    const file = project.resolveInside(row.thumb);
    return fs.existsSync(file) ? { file, contentType: 'image/jpeg' } : null;
  }
  // Only raster image types: never a page or script (or an SVG, which can carry one) from an image row.
  const found = contentTypeOf(row.path);
  const type = found?.startsWith('image/') && found !== 'image/svg+xml' ? found : undefined;
  return type && fs.existsSync(row.path) ? { file: row.path, contentType: type } : null;
}
