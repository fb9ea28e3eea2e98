/** The report's headline in plain words: which model is best and what the paired tests say the fusion added. */
import { pClause, type Comparison, type Mode } from './results.ts';

export type { Comparison } from './results.ts';

export interface VerdictInput {
  auc: Record<Mode, number>;
  fusedVsImage: Comparison;
  fusedVsMetadata: Comparison;
}

export type VerdictTone = 'gain' | 'none' | 'worse';

export interface Verdict {
  /** The mode with the highest AUC (by its point estimate). */
  best: Mode;
  tone: VerdictTone;
  /** One or two sentences: the claim first, then the numbers behind it. */
  text: string;
}

const NAMES: Record<Mode, string> = { image: 'image only', metadata: 'metadata only', fused: 'fused' };
const f3 = (x: number) => x.toFixed(3);
const above = (c: Comparison) => c.ci[0] > 0;
const below = (c: Comparison) => c.ci[1] < 0;
const numbers = (name: string, c: Comparison) => `fused − ${name} = ${f3(c.difference)} AUC (95% CI [${f3(c.ci[0])}, ${f3(c.ci[1])}], ${pClause(c.p)})`;

/**
 * The verdict follows the paired tests, not the point estimates: a gain counts only when its interval lies above 0.
 * Fused better than both: what it adds over each. Better than one only: the other modality carries the signal and
 * the photos (or the metadata) add nothing measurable. Worse than one: said so. Neither: no measurable gain.
 */
export function verdictOf(v: VerdictInput): Verdict {
  const best = (['image', 'metadata', 'fused'] as const).reduce((a, b) => (v.auc[b] > v.auc[a] ? b : a));
  const img = v.fusedVsImage;
  const meta = v.fusedVsMetadata;
  const bestNote = best === 'fused' ? '' : ` ${capital(NAMES[best])} scores highest (AUC ${f3(v.auc[best])} vs fused ${f3(v.auc.fused)}).`;
  if (below(meta) || below(img)) {
    const worse = below(meta) ? 'metadata' : 'image';
    return {
      best,
      tone: 'worse',
      text: `Fused is worse than ${worse} alone here: ${numbers(worse, worse === 'metadata' ? meta : img)}.${bestNote}`,
    };
  }
  if (above(img) && above(meta)) {
    const both = Math.min(img.difference, meta.difference);
    return {
      best,
      tone: 'gain',
      text: `Fusing helps: fused adds ${f3(both)} AUC or more over both single models (${numbers('image', img)}; ${numbers('metadata', meta)}).${bestNote}`,
    };
  }
  if (above(img))
    return {
      best,
      tone: 'none',
      text: `Fused is no better than metadata alone here: the photos add nothing measurable (${numbers('metadata', meta)}). It does beat image only (${numbers('image', img)}).${bestNote}`,
    };
  if (above(meta))
    return {
      best,
      tone: 'none',
      text: `Fused is no better than the image alone here: the metadata adds nothing measurable (${numbers('image', img)}). It does beat metadata only (${numbers('metadata', meta)}).${bestNote}`,
    };
  return {
    best,
    tone: 'none',
    text: `Fused is no better than either model alone here: no measurable gain over image only (${numbers('image', img)}) or metadata only (${numbers('metadata', meta)}).${bestNote}`,
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
