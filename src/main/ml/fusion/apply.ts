import type { FieldValue } from '../../../shared/types.ts';
import type { FinalModels, Mode } from './crossval.ts';
import { mix } from './crossval.ts';
import { predictHead } from './heads.ts';
import { predictClasses } from './metrics.ts';
import { pcaProject } from './pcaTf.ts';
import { encodeRows } from './tabular.ts';

/**
 * Class probabilities (n × classes) of a run's final model of one mode, from image vectors (n × dim) and metadata
 * rows in the encoder's field order. The workbench and exported bundles both predict through this function.
 */
export function applyModels(models: FinalModels, mode: Mode, vectors: Float32Array, meta: FieldValue[][]): Float64Array {
  const n = meta.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const data = {
    image: mode === 'metadata' ? null : pcaProject(models.pca, vectors, n),
    imageDim: models.pca.k,
    meta: mode === 'image' ? null : encodeRows(models.encoder, meta),
    metaDim: models.encoder.width,
  };
  if (mode === 'image') return predictHead(models.image, data, idx);
  if (mode === 'metadata') return predictHead(models.metadata, data, idx);
  const pImage = predictHead(models.image, data, idx);
  const pMeta = predictHead(models.metadata, data, idx);
  const f = models.fusion;
  return f.kind === 'late' ? mix(pImage, pMeta, f.imageWeight) : predictHead(models.fused!, data, idx);
}

/** Decisions with the mode's threshold (binary) or argmax (multiclass). */
export function decideClasses(models: FinalModels, mode: Mode, probs: Float64Array, classes: number): Int32Array {
  return predictClasses({ probs, classes, labels: new Int32Array(probs.length / classes) }, models.thresholds[mode]);
}
