// Worker thread: works out an import's preview (reads, parses and maps the CSV head, scans the folder) off the
// thread that serves requests, and sends back only the small summary the import screen shows.
import { parentPort } from 'node:worker_threads';
import { toErrorPayload, type ErrorPayload } from '../../shared/errors.ts';
import type { ImportPreview } from '../../shared/types.ts';
import { planImport, type ImportRequest } from './importPlan.ts';
import { previewOf } from './importPreview.ts';
import type { ProjectSchema } from './importMatch.ts';

export type PreviewRequest = { req: ImportRequest; projectDir: string; schema: ProjectSchema };
export type PreviewReply = { ok: true; preview: ImportPreview } | { ok: false; error: ErrorPayload };

const port = parentPort!;

port.once('message', ({ req, projectDir, schema }: PreviewRequest) => {
  planImport(req, projectDir, { preview: true, schema })
    .then((plan) => port.postMessage({ ok: true, preview: previewOf(plan) } satisfies PreviewReply))
    .catch((err: unknown) => port.postMessage({ ok: false, error: toErrorPayload(err) } satisfies PreviewReply));
});
