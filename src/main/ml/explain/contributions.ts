import { DermFuseError } from '../../../shared/errors.ts';
import { IMAGE_BLOCK, type Contribution, type Contributions } from '../../../shared/explain.ts';
import type { FieldValue } from '../../../shared/types.ts';
import type { FinalModels, Mode } from '../fusion/crossval.ts';
import { encodeRow, fieldColumns, referenceColumns, referenceLabel } from '../fusion/tabular.ts';
import { caseScore, projectOne, type EncodedCase } from './forward.ts';

/** What kind of head a mode's prediction comes from, as the explanation names it. */
export function headName(models: FinalModels, mode: Mode): string {
  const head = mode === 'image' ? models.image : mode === 'metadata' ? models.metadata : models.fused;
  if (head) return `${head.kind}${mode === 'fused' && head.kind === 'linear' ? ' (concatenation)' : ''}`;
  return models.fusion.kind === 'late' ? `late fusion (image weight ${models.fusion.imageWeight})` : models.fusion.kind;
}

/**
 * Each block's contribution to one case's log-odds of class `c`: the change when that block alone is replaced by its
 * training reference, the average patient (a field's columns by their training means: a number's mean, a category's
 * shares; the image by the average training image, whose principal components are all 0). A field at the most common
 * value of two still moves the case away from the mix, so a deciding field never reads as 0. For a linear head on two classes the log-odds are linear in the inputs, so these
 * are the exact decomposition (they sum to logit − base logit); for MLP, gating, late fusion or several classes the
 * remainder is reported as the interaction.
 *
 * `vector`: the image's raw features (null for a metadata model); `row`: the case's values in the encoder's order.
 */
export function explainCase(
  models: FinalModels,
  mode: Mode,
  vector: ArrayLike<number> | null,
  row: readonly FieldValue[],
  c: number,
  baseline: ReadonlyMap<string, FieldValue> = new Map(),
): Contributions {
  const enc = models.encoder;
  const useImage = mode !== 'metadata' && vector !== null;
  const useMeta = mode !== 'image' && enc.width > 0;
  const image = useImage ? projectOne(models.pca, vector!) : null;
  const refImage = image ? new Float64Array(image.length) : null;
  const meta = useMeta ? Float64Array.from(encodeRow(enc, row)) : null;
  const refMeta = useMeta ? referenceColumns(enc) : null;
  const labels = enc.fields.map((_, j) => referenceLabel(enc, j));
  // A baseline the user picked for some fields: their reference columns are that value's encoding.
  for (const [name, value] of baseline) {
    const j = enc.fields.findIndex((f) => f.name === name);
    if (j < 0)
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `baseline: the model has no field "${name}"; its fields: ${enc.fields.map((f) => f.name).join(', ') || 'none'}.`,
      );
    if (!refMeta) continue;
    const [start, end] = fieldColumns(enc)[j]!;
    const only = enc.fields.map((_, k) => (k === j ? value : null));
    refMeta.set(encodeRow(enc, only).subarray(start, end), start);
    labels[j] = value;
  }
  const score = (x: EncodedCase) => caseScore(models, mode, x, c);
  const full = score({ image, meta });
  const base = score({ image: refImage, meta: refMeta });
  const contributions: Contribution[] = [];
  if (meta) {
    const columns = fieldColumns(enc);
    enc.fields.forEach((f, j) => {
      const [start, end] = columns[j]!;
      const replaced = meta.slice();
      replaced.set(refMeta!.subarray(start, end), start);
      contributions.push({
        field: f.name,
        value: row[j] ?? null,
        reference: labels[j] ?? null,
        contribution: full.logit - score({ image, meta: replaced }).logit,
      });
    });
  }
  if (image) contributions.push({ field: IMAGE_BLOCK, value: null, reference: null, contribution: full.logit - score({ image: refImage, meta }).logit });
  const head = mode === 'image' ? models.image : mode === 'metadata' ? models.metadata : models.fused;
  const exact = head?.kind === 'linear' && head.classes === 2;
  const sum = contributions.reduce((s, x) => s + x.contribution, 0);
  return {
    method: exact ? 'exact' : 'replacement',
    head: headName(models, mode),
    baseLogit: base.logit,
    baseProbability: base.probability,
    logit: full.logit,
    probability: full.probability,
    contributions,
    interaction: full.logit - base.logit - sum,
  };
}
