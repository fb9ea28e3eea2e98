import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../project.ts';

export interface MediaFile {
  file: string;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

/**
 * The file behind an image of the open project, by its numeric id only: a request can name no path, so nothing
 * outside the project's own images and thumbnails can be read. Null when there is no such (readable) image.
 */
export function mediaFile(project: Project, kind: 'thumb' | 'image', idText: string): MediaFile | null {
  if (!/^\d{1,12}$/.test(idText)) return null;
  const row = project.db.prepare(`SELECT path, thumb FROM images WHERE id = ? AND status = 'ok'`).get(Number(idText)) as
    { path: string; thumb: string | null } | undefined;
  if (!row) return null;
  if (kind === 'thumb') {
    if (!row.thumb) return null;
    const file = project.resolveInside(row.thumb);
    return fs.existsSync(file) ? { file, contentType: 'image/jpeg' } : null;
  }
  const type = TYPES[path.extname(row.path).toLowerCase()];
  return type && fs.existsSync(row.path) ? { file: row.path, contentType: type } : null;
}
