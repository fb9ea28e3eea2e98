import { isDesktop } from './api.ts';

/** URL of an image's thumbnail or full file: the app's own protocol in Electron, the server's media route in serve. */
export function mediaUrl(kind: 'thumb' | 'image', id: number): string {
  return isDesktop ? `dermfuse-image://${kind}/${id}` : `/media/${kind}/${id}`;
}
