import type { TrainRequest } from '../../shared/api.ts';
import { DermFuseError } from '../../shared/errors.ts';
import { TRAIN_DEFAULTS } from '../../shared/jobs.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import type { TrainConfig } from '../ml/fusion/dataset.ts';
import { trainRun, type RunResult } from '../ml/fusion/train.ts';
import { finetuneRun } from '../ml/finetune/finetuneRun.ts';
import type { Project } from '../project.ts';
import { refreshAfterRun } from '../quality/labelQueue.ts';
import { targetClasses } from '../workbench/labelSets.ts';

type FinetuneRequest = Pick<TrainRequest, 'finetuneFrom' | 'views' | 'augment' | 'epochs'>;

/** The fine-tuning part of a training request, or null for a frozen run. */
export function finetuneOf(req: TrainRequest): FinetuneRequest | null {
  if (!req.finetune) {
    if (req.finetuneFrom || req.views || req.augment?.length || req.epochs)
      throw new DermFuseError('INVALID_ARGUMENT', '--finetune-from, --views, --augment and --epochs go with --finetune.');
    return null;
  }
  return { finetuneFrom: req.finetuneFrom, views: req.views, augment: req.augment, epochs: req.epochs };
}

/** A training request (form or command line) as the run's configuration: the defaults and the derived target resolved here only. */
export function trainConfigOf(project: Project, req: TrainRequest): TrainConfig {
  return {
    label: req.label,
    positive: req.target ? targetClasses(project, req.label, req.target) : req.positive?.length ? req.positive : null,
    fields: req.fields?.length ? req.fields : null,
    group: req.group ?? TRAIN_DEFAULTS.group,
    folds: req.folds ?? TRAIN_DEFAULTS.folds,
    backbone: req.backbone || null,
    seed: req.seed ?? TRAIN_DEFAULTS.seed,
    duplicates: req.duplicates ?? TRAIN_DEFAULTS.duplicates,
    consensus: req.consensus ?? 'latest',
  };
}

/** Trains a run, then points the browser's "label next" order at the newest model: the app's job and `dermfuse train`. */
export async function trainAndRefresh(
  project: Project,
  config: TrainConfig,
  opts: { signal?: AbortSignal; onProgress?: ProgressFn; finetune?: FinetuneRequest | null },
): Promise<RunResult> {
  const result = opts.finetune
    ? await finetuneRun(project, config, {
        ...opts,
        from: opts.finetune.finetuneFrom ?? null,
        views: opts.finetune.views,
        augment: opts.finetune.augment,
        epochs: opts.finetune.epochs,
      })
    : await trainRun(project, config, opts);
  refreshAfterRun(project, result.runId);
  return result;
}
