import type { RequestOf, TrainRequest } from '../../shared/api.ts';
import { TRAIN_DEFAULTS } from '../../shared/jobs.ts';
import type { TrainConfig } from '../ml/fusion/dataset.ts';
import type { ImportPreview } from '../../shared/types.ts';
import { planImport, type ImportRequest } from '../images/importPlan.ts';
import type { PreviewReply, PreviewRequest } from '../images/previewWorker.ts';
import { spawnWorker } from '../ml/workerPool.ts';
import { DermFuseError } from '../../shared/errors.ts';
import type { JobBody } from '../jobs/manager.ts';
import type { Project } from '../project.ts';
import { targetClasses } from '../workbench/labelSets.ts';
import { DEFAULT_BACKBONE } from '../ml/catalogue.ts';

type JobRequest = RequestOf<'jobs.start'>;

function importRequest(req: Omit<Extract<JobRequest, { kind: 'import' }>, 'kind'>): ImportRequest {
  return {
    imagesDir: req.imagesDir,
    metadataPath: req.metadataPath || undefined,
    preset: req.preset,
    idColumn: req.idColumn || undefined,
    labelColumn: req.labelColumn || undefined,
    patientColumn: req.patientColumn || undefined,
    lesionColumn: req.lesionColumn || undefined,
  };
}

/**
 * What the import screen shows before anything is written, worked out in a worker thread: parsing and mapping even
 * the CSV's first 8 MB takes the better part of a second, which on the thread that serves requests would stall
 * every other caller. The worker sends back only the summary (previewOf); an error it meets comes back as the same
 * DermFuseError, a crash as INTERNAL.
 */
export async function importPreview(project: Project, req: RequestOf<'import.plan'>): Promise<ImportPreview> {
  // Its build entry is `previewWorker` (electron.vite.config.ts); its source lies in images/.
  const worker = spawnWorker('previewWorker', '../images/previewWorker');
  try {
    return await new Promise<ImportPreview>((resolve, reject) => {
      worker.once('message', (reply: PreviewReply) => (reply.ok ? resolve(reply.preview) : reject(new DermFuseError(reply.error.code, reply.error.message))));
      worker.once('error', (err) => reject(new DermFuseError('INTERNAL', `The import preview worker crashed: ${err.message}`)));
      worker.once('exit', (code) => reject(new DermFuseError('INTERNAL', `The import preview worker exited (code ${code}) before answering.`)));
      worker.postMessage({ req: importRequest(req), projectDir: project.dir } satisfies PreviewRequest);
    });
  } finally {
    await worker.terminate();
  }
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

/** The title and body of a job: the same functions the CLI runs, with the job's signal and progress. */
export function jobFor(project: Project, req: JobRequest): { title: string; body: JobBody } {
  switch (req.kind) {
    case 'import':
      return {
        title: `Import of ${req.imagesDir}`,
        body: async (signal, onProgress) => {
          const { runImport } = await import('../images/importRun.ts');
          const plan = await planImport(importRequest(req), project.dir);
          return runImport(project, plan, { signal, onProgress });
        },
      };
    case 'extract': {
      const { backbone = DEFAULT_BACKBONE, kind: _k, ...options } = req;
      return {
        title: `Feature extraction (${backbone})`,
        body: async (signal, onProgress) => {
          const { extractFeatures } = await import('../ml/extract.ts');
          return extractFeatures(project, backbone, { ...options, signal, onProgress });
        },
      };
    }
    case 'train': {
      const config = trainConfigOf(project, req);
      return {
        title: `Training on ${req.label}${req.target ? ` (${req.target})` : ''}`,
        body: async (signal, onProgress) => {
          const { trainRun } = await import('../ml/fusion/train.ts');
          const { evaluation: _e, innerScores: _i, ...summary } = await trainRun(project, config, { signal, onProgress });
          // The browser's "label next" order follows the newest model.
          const { refreshAfterRun } = await import('../quality/labelQueue.ts');
          refreshAfterRun(project, summary.runId);
          return summary;
        },
      };
    }
    case 'quality':
      return {
        title: 'Data-quality scan (near-duplicates, outliers)',
        body: async (signal, onProgress) => {
          const { scanQuality } = await import('../quality/scan.ts');
          return scanQuality(project, { signal, onProgress });
        },
      };
    default: {
      const never: never = req;
      throw new Error(`unknown job ${JSON.stringify(never)}`);
    }
  }
}
