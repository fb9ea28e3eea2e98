import type { RequestOf } from '../../shared/api.ts';
import { DermFuseError } from '../../shared/errors.ts';
import type { ImportPreview } from '../../shared/types.ts';
import type { ImportRequest } from '../images/importPlan.ts';
import type { PreviewReply, PreviewRequest } from '../images/previewWorker.ts';
import { spawnWorker } from '../jobs/workers.ts';
import { projectSchema } from '../images/importMatch.ts';
import type { Project } from '../project.ts';

/** An import as the form and the command line ask for it, with empty fields meaning "not given". */
export function importRequest(req: RequestOf<'import.plan'>): ImportRequest {
  return {
    imagesDir: req.imagesDir,
    metadataPath: req.metadataPath || undefined,
    preset: req.preset,
    idColumn: req.idColumn || undefined,
    labelColumn: req.labelColumn || undefined,
    patientColumn: req.patientColumn || undefined,
    lesionColumn: req.lesionColumn || undefined,
    labelSet: req.labelSet || undefined,
    fieldMap: req.fieldMap,
    ignore: req.ignore,
    types: req.types,
    exactRoles: req.exactRoles,
  };
}

/**
 * What the import screen shows before anything is written, worked out in a worker thread: parsing and mapping even
 * the CSV's first 8 MB takes the better part of a second, which on the thread that serves requests would stall
 * every other caller. The worker sends back only the summary (previewOf); an error it meets comes back as the same
 * DermFuseError, a crash as INTERNAL.
 */
export async function importPreview(project: Project, req: RequestOf<'import.plan'>): Promise<ImportPreview> {
  const worker = spawnWorker('images/previewWorker');
  try {
    return await new Promise<ImportPreview>((resolve, reject) => {
      worker.once('message', (reply: PreviewReply) => (reply.ok ? resolve(reply.preview) : reject(new DermFuseError(reply.error.code, reply.error.message))));
      worker.once('error', (err) => reject(new DermFuseError('INTERNAL', `The import preview worker crashed: ${err.message}`)));
      worker.once('exit', (code) => reject(new DermFuseError('INTERNAL', `The import preview worker exited (code ${code}) before answering.`)));
      worker.postMessage({ req: importRequest(req), projectDir: project.dir, schema: projectSchema(project.db) } satisfies PreviewRequest);
    });
  } finally {
    await worker.terminate();
  }
}
