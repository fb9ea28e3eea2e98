import { contentTypeOf } from './files/contentTypes.ts';
import { fileBelow } from './files/fsChecks.ts';

/**
 * The desktop window loads the renderer from a privileged scheme of its own, `dermfuse://app/`, instead of file://
 * (where every local file would be same-origin with the app). The same scheme serves images by id under `/media/`.
 * Pure rules here (no electron import), so they are tested under plain Node; index.ts binds them.
 */
export const APP_SCHEME = 'dermfuse';
export const APP_HOST = 'app';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** The page the window loads: the dev server in `electron-vite dev`, else the built renderer on the app scheme. */
export function rendererUrl(devServer: string | undefined): string {
  return devServer ?? APP_URL;
}

/**
 * True when `url` belongs to the app: the same scheme, host and port as the page it loads (parsed, so
 * `http://localhost:5173.evil.com` is not `http://localhost:5173`). Anything unparsable is foreign.
 */
export function isOwnUrl(url: string, devServer: string | undefined): boolean {
  let u: URL;
  let own: URL;
  try {
    u = new URL(url);
    own = new URL(rendererUrl(devServer));
  } catch {
    return false;
  }
  if (u.protocol === `${APP_SCHEME}:`) return u.host === APP_HOST;
  return devServer !== undefined && u.protocol === own.protocol && u.host === own.host;
}

export type AppRequest = { kind: 'media'; media: 'thumb' | 'image'; id: string } | { kind: 'file'; file: string; contentType: string } | { kind: 'none' };

/** What a `dermfuse://` request asks for: an image by id, or a file of the built renderer (never outside it). */
export function resolveAppRequest(url: string, rendererDir: string): AppRequest {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: 'none' };
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return { kind: 'none' };
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return { kind: 'none' };
  }
  const media = /^\/media\/(thumb|image)\/([^/]+)$/.exec(pathname);
  if (media) return { kind: 'media', media: media[1] as 'thumb' | 'image', id: media[2]! };
  const file = fileBelow(rendererDir, pathname);
  if (!file) return { kind: 'none' };
  return { kind: 'file', file, contentType: contentTypeOf(file) ?? 'application/octet-stream' };
}
