import type { ImageDetail } from '../../shared/types.ts';

/**
 * An image as a blind annotator sees it: until they have labelled it, no one else's label, history or model
 * suggestion; afterwards, everything (their label is given, so seeing others' cannot sway it).
 */
export function blindDetail(d: ImageDetail, name: string): ImageDetail {
  const own = d.history.filter((h) => h.source === 'user' && h.author === name);
  if (own.some((h) => h.label !== null)) return d;
  return { ...d, label: null, unsure: false, suggestion: null, history: own };
}
