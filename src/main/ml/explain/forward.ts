import type { FinalModels, Mode } from '../fusion/crossval.ts';
import type { HeadModel, SerialTensor } from '../fusion/heads.ts';
import type { PcaModel } from '../stats/pca.ts';

/**
 * The final models' forward pass in float64 plain JavaScript, for explanations: a few rows at a time, exact to
 * rounding (so a linear head's contributions sum to its logit to 1e-12), and no TensorFlow on the thread that serves
 * the UI. Mirrors heads.ts's `logits` (same parameters, same formulas) and apply.ts's late fusion.
 */

/** One case as the heads take it: the image block's components (null: no image) and the encoded metadata. */
export interface EncodedCase {
  image: Float64Array | null;
  meta: Float64Array | null;
}

/** Row-major product of a vector (length rows) with a serialised rows × cols matrix, added to `out`. */
function addVecMat(out: Float64Array, x: ArrayLike<number>, m: SerialTensor): void {
  const [rows, cols] = m.shape as [number, number];
  const w = m.values;
  for (let r = 0; r < rows; r++) {
    const xr = x[r]!;
    if (xr === 0) continue;
    for (let c = 0; c < cols; c++) out[c]! += xr * w[r * cols + c]!;
  }
}

/** The head's logits for one case (heads.ts `logits`, without dropout). */
export function headLogits(m: HeadModel, x: EncodedCase): Float64Array {
  const p = m.params;
  const out = Float64Array.from(p.bias!.values);
  const image = p.wImage && x.image ? x.image : null;
  const meta = (p.wMeta || p.wGate) && x.meta ? x.meta : null;
  if (m.kind === 'mlp') {
    const h = Float64Array.from(p.bHidden!.values);
    if (image) addVecMat(h, image, p.wImage!);
    if (meta) addVecMat(h, meta, p.wMeta!);
    for (let i = 0; i < h.length; i++) h[i] = Math.max(0, h[i]!);
    addVecMat(out, h, p.wOut!);
    return out;
  }
  if (m.kind === 'linear') {
    if (image) addVecMat(out, image, p.wImage!);
    if (meta) addVecMat(out, meta, p.wMeta!);
    return out;
  }
  // Gating (MetaBlock): image · 2σ(meta·Wg + bg) + meta·Ws, then linear on both blocks.
  const gate = Float64Array.from(p.bGate!.values);
  addVecMat(gate, meta!, p.wGate!);
  const shift = new Float64Array(gate.length);
  addVecMat(shift, meta!, p.wShift!);
  const modulated = gate.map((g, i) => image![i]! * (2 / (1 + Math.exp(-g))) + shift[i]!);
  addVecMat(out, modulated, p.wImage!);
  addVecMat(out, meta!, p.wMeta!);
  return out;
}

export function softmax(z: Float64Array): Float64Array {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Log-odds of class c from logits, stable: z_c − logsumexp of the others (binary: z_c − z_other). */
export function logOddsFromLogits(z: Float64Array, c: number): number {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) if (k !== c) max = Math.max(max, z[k]!);
  let s = 0;
  for (let k = 0; k < z.length; k++) if (k !== c) s += Math.exp(z[k]! - max);
  return z[c]! - (max + Math.log(s));
}

export function logOdds(p: number): number {
  const q = Math.min(1 - 1e-15, Math.max(1e-15, p));
  return Math.log(q) - Math.log1p(-q);
}

/** A case's score for class c under one mode: log-odds and probability (late fusion mixes probabilities). */
export function caseScore(models: FinalModels, mode: Mode, x: EncodedCase, c: number): { logit: number; probability: number } {
  const head = mode === 'image' ? models.image : mode === 'metadata' ? models.metadata : models.fused;
  if (head) {
    const z = headLogits(head, x);
    return { logit: logOddsFromLogits(z, c), probability: softmax(z)[c]! };
  }
  const f = models.fusion;
  const w = f.kind === 'late' ? f.imageWeight : 0.5;
  const p = w * softmax(headLogits(models.image, x))[c]! + (1 - w) * softmax(headLogits(models.metadata, x))[c]!;
  return { logit: logOdds(p), probability: p };
}

/** Every class's probability for one case under one mode. */
export function caseProbabilities(models: FinalModels, mode: Mode, x: EncodedCase): Float64Array {
  const head = mode === 'image' ? models.image : mode === 'metadata' ? models.metadata : models.fused;
  if (head) return softmax(headLogits(head, x));
  const f = models.fusion;
  const w = f.kind === 'late' ? f.imageWeight : 0.5;
  const a = softmax(headLogits(models.image, x));
  const b = softmax(headLogits(models.metadata, x));
  return a.map((v, i) => w * v + (1 - w) * b[i]!);
}

/** Projects one feature vector onto the PCA (pcaTf.ts `pcaProject`, in float64). */
export function projectOne(pca: PcaModel, v: ArrayLike<number>): Float64Array {
  if (pca.identity) return Float64Array.from({ length: pca.dim }, (_, j) => v[j]!);
  const meanVariance = pca.variances.reduce((a, x) => a + x, 0) / Math.max(pca.k, 1);
  const scale = 1 / Math.sqrt(Math.max(meanVariance, 1e-12));
  const out = new Float64Array(pca.k);
  const centred = Float64Array.from({ length: pca.dim }, (_, j) => v[j]! - pca.mean[j]!);
  for (let c = 0; c < pca.k; c++) {
    let s = 0;
    const row = c * pca.dim;
    for (let j = 0; j < pca.dim; j++) s += centred[j]! * pca.components[row + j]!;
    out[c] = s * scale;
  }
  return out;
}

/** The class a mode decides for a case: the mode's threshold on two classes, the most probable otherwise. */
export function decideOne(models: FinalModels, mode: Mode, probs: Float64Array): number {
  if (probs.length === 2) return probs[1]! >= models.thresholds[mode] ? 1 : 0;
  let best = 0;
  for (let c = 1; c < probs.length; c++) if (probs[c]! > probs[best]!) best = c;
  return best;
}
