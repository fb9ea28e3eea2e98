import type { RequestOf } from '../../shared/api.ts';
import { planImport } from '../images/importPlan.ts';
import { projectSchema } from '../images/importMatch.ts';
import type { JobBody } from '../jobs/manager.ts';
import { DEFAULT_BACKBONE } from '../ml/backbone/catalogue.ts';
import type { Project } from '../project.ts';
import { importRequest } from './importPreview.ts';
import { finetuneOf, trainAndRefresh, trainConfigOf } from './train.ts';

type JobRequest = RequestOf<'jobs.start'>;

/** The title and body of a job: the same functions the CLI runs, with the job's signal and progress. */
export function jobFor(project: Project, req: JobRequest): { title: string; body: JobBody } {
  switch (req.kind) {
    case 'import':
      return {
        title: `Import of ${req.imagesDir}`,
        body: async (signal, onProgress) => {
          const { runImport } = await import('../images/importRun.ts');
          const plan = await planImport(importRequest(req), project.dir, { schema: projectSchema(project.db) });
          return runImport(project, plan, { signal, onProgress });
        },
      };
    case 'extract': {
      const { backbone = DEFAULT_BACKBONE, kind: _k, ...options } = req;
      return {
        title: `Feature extraction (${backbone})`,
        body: async (signal, onProgress) => {
          const { extractFeatures } = await import('../ml/backbone/extract.ts');
          return extractFeatures(project, backbone, { ...options, signal, onProgress });
        },
      };
    }
    case 'train': {
      // Resolved now (a target that does not exist fails the request, not the job).
      const config = trainConfigOf(project, req);
      const finetune = finetuneOf(req);
      return {
        title: `${finetune ? 'Fine-tuning the CNN' : 'Training'} on ${req.label}${req.target ? ` (${req.target})` : ''}`,
        body: async (signal, onProgress) => {
          const { evaluation: _e, innerScores: _i, ...summary } = await trainAndRefresh(project, config, { signal, onProgress, finetune });
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
    case 'validate': {
      const { kind: _k, ...request } = req;
      return {
        title: `External validation of run ${req.runId}`,
        body: async (signal, onProgress) => {
          const { validateRun } = await import('../validation/validateRun.ts');
          const { id, report } = await validateRun(project, request, { signal, onProgress });
          return {
            id,
            runId: report.runId,
            images: report.images,
            fusedAuc: report.modes.fused.auc.value,
            imageShiftAuc: report.shift.images?.auc.value ?? null,
          };
        },
      };
    }
    default: {
      const never: never = req;
      throw new Error(`unknown job ${JSON.stringify(never)}`);
    }
  }
}
