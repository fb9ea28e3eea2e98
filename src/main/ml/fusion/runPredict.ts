import { imageFeatures, KEY_SEPARATOR } from './dataset.ts';
import { repoOf } from '../../db/open.ts';
import { DermFuseError } from '../../../shared/errors.ts';
import { FieldsRepo } from '../../db/repos/fieldsRepo.ts';
import type { Project } from '../../project.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';
import { applyModels } from './apply.ts';
import type { Mode } from './crossval.ts';
import { runModels, runReport } from './runs.ts';

/**
 * The workbench's own predictions of a run's final model (fitted on all images) for images of the project that
 * have features under the run's backbone: the reference an exported bundle must reproduce.
 */
export function predictWithRun(
  project: Project,
  runId: number,
  mode: Mode,
  imageIds?: number[],
): { imageIds: number[]; externalIds: string[]; probs: Float64Array; classes: string[] } {
  const report = runReport(project, runId);
  if (!report.result) throw new DermFuseError('INVALID_ARGUMENT', `Run ${runId} is ${report.status}.`);
  const models = runModels(project, runId);
  const wanted = imageIds ? new Set(imageIds) : null;
  const store = repoOf(project.db, FeatureStore);
  const keys = report.snapshot.backboneKey.split(KEY_SEPARATOR);
  const joined = imageFeatures(store, keys.join(','));
  const externalOf = new Map(store.imageVectors(keys[0]!).map((v) => [v.imageId, v.externalId]));
  const vectors = [...joined.vectors]
    .filter(([id]) => !wanted || wanted.has(id))
    .sort((a, b) => a[0] - b[0])
    .map(([imageId, vector]) => ({ imageId, externalId: externalOf.get(imageId)!, vector }));
  const repo = repoOf(project.db, FieldsRepo);
  const fields = report.result.fieldsUsed.map((n) => repo.get(n)!);
  const meta = repo.rows(
    vectors.map((v) => v.imageId),
    fields,
  );
  const dim = vectors[0]?.vector.length ?? 0;
  const flat = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => flat.set(v.vector, i * dim));
  return {
    imageIds: vectors.map((v) => v.imageId),
    externalIds: vectors.map((v) => v.externalId),
    probs: applyModels(models, mode, flat, meta),
    classes: report.result.classes,
  };
}
