import { DermFuseError } from '../../shared/errors.ts';
import { z } from 'zod';
import { jsonColumn } from '../db/json.ts';
import { LABEL_NEXT_STRATEGIES } from '../../shared/quality.ts';

const StoredLabelNext = z.object({ source: z.string(), strategy: z.enum(LABEL_NEXT_STRATEGIES), images: z.number().int(), at: z.string() });
import type { LabelNextInfo } from '../../shared/quality.ts';
import { repoOf } from '../db/open.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import { QualityRepo } from '../db/repos/qualityRepo.ts';
import { SettingsRepo } from '../db/repos/settingsRepo.ts';
import { logger } from '../log.ts';
import { KEY_SEPARATOR } from '../ml/fusion/dataset.ts';
import { predictWithRun } from '../ml/fusion/runPredict.ts';
import { runReport } from '../ml/fusion/runs.ts';
import type { Project } from '../project.ts';
import { DEFAULT_STRATEGY, labellingOrder, uncertainties } from './labelNext.ts';
import type { LabelNextStrategy } from '../../shared/quality.ts';

const log = logger('label-next');
export const LABEL_NEXT_SETTING = 'quality.labelNext';

/** The order of unlabelled images (ids), given each one's class probabilities and the features of a backbone. */
function store(
  project: Project,
  ids: number[],
  probs: Float64Array,
  classes: number,
  featureKey: string | null,
  strategy: LabelNextStrategy,
  source: string,
): LabelNextInfo {
  const vectors = featureKey
    ? new Map(
        repoOf(project.db, FeatureStore)
          .imageVectors(featureKey)
          .map((v) => [v.imageId, v.vector]),
      )
    : null;
  const unlabelled = new Set(ids);
  const candidates = vectors && ids.every((id) => vectors.has(id)) ? ids.map((id) => vectors.get(id)!) : null;
  const labelled = vectors ? [...vectors].filter(([id]) => !unlabelled.has(id)).map(([, v]) => v) : null;
  const order = labellingOrder(strategy, uncertainties(probs, classes), candidates, labelled);
  repoOf(project.db, QualityRepo).putLabelNext(order.map((i) => ids[i]!));
  const info: LabelNextInfo = { source, strategy: candidates ? strategy : 'uncertainty', images: ids.length, at: new Date().toISOString() };
  repoOf(project.db, SettingsRepo).set(LABEL_NEXT_SETTING, JSON.stringify(info));
  return info;
}

/** Orders the unlabelled images of a run's label set by what labelling them would teach the run's fused model most. */
export function labelNextFromRun(project: Project, runId: number, strategy: LabelNextStrategy = DEFAULT_STRATEGY): LabelNextInfo {
  const report = runReport(project, runId);
  if (!report.result) throw new DermFuseError('INVALID_ARGUMENT', `Run ${runId} is ${report.status}: no model to ask.`);
  const unlabelled = repoOf(project.db, ImagesRepo)
    .unlabelled(report.snapshot.labelSetId)
    .map((i) => i.id);
  const p = predictWithRun(project, runId, 'fused', unlabelled);
  const firstKey = report.snapshot.backboneKey.split(KEY_SEPARATOR)[0]!;
  return store(project, p.imageIds, p.probs, p.classes.length, firstKey, strategy, `run ${runId}`);
}

/** Orders unlabelled images by a bundle's predictions (its probabilities per class), spread over the project's features when it has some. */
export function labelNextFromBundle(
  project: Project,
  bundle: string,
  ids: number[],
  probs: Float64Array,
  classes: number,
  strategy: LabelNextStrategy = DEFAULT_STRATEGY,
): LabelNextInfo {
  const key = repoOf(project.db, FeatureStore).backbones()[0]?.key ?? null;
  return store(project, ids, probs, classes, key, strategy, `bundle ${bundle}`);
}

/** After a bundle was applied: refresh the order; a failure here is logged, never the suggestions' failure. */
export function refreshFromBundle(project: Project, bundle: string, scored: { imageIds: number[]; probs: Float64Array }, classes: number): void {
  try {
    labelNextFromBundle(project, bundle, scored.imageIds, scored.probs, classes);
  } catch (err) {
    log.warn(`label next not refreshed from bundle ${bundle}: ${(err as Error).message}`);
  }
}

/** After a run: refresh the order; a failure here is logged, never the run's failure. */
export function refreshAfterRun(project: Project, runId: number): void {
  try {
    const info = labelNextFromRun(project, runId);
    log.info(`label next: ${info.images} unlabelled images ordered by ${info.strategy} from run ${runId}`);
  } catch (err) {
    log.warn(`label next not refreshed after run ${runId}: ${(err as Error).message}`);
  }
}

export function labelNextInfo(project: Project): LabelNextInfo | null {
  const s = repoOf(project.db, SettingsRepo).get(LABEL_NEXT_SETTING);
  return s ? jsonColumn(s, StoredLabelNext, 'The stored label-next order') : null;
}
