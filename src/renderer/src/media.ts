import { isDesktop } from './api.ts';

/**
 * URL of an image's thumbnail or full file. The built renderer asks its own origin (`dermfuse://app/media/…` in the
 * window, the server's `/media/…` in serve mode); only a desktop window on the dev server names the app scheme.
 */
export function mediaUrl(kind: 'thumb' | 'image', id: number): string {
  return import.meta.env.DEV && isDesktop ? `dermfuse://app/media/${kind}/${id}` : `/media/${kind}/${id}`;
}
