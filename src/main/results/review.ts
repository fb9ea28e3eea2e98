import { DermFuseError } from '../../shared/errors.ts';
import type { Editor } from '../workbench/edits.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';
import { currentLabels, loadRunData } from '../ml/fusion/runData.ts';
import { repoOf, writeTransaction } from '../db/open.ts';
import { ReviewsRepo } from '../db/repos/reviewsRepo.ts';

export interface ReviewRequest {
  runId: number;
  imageId: number;
  decision: 'keep' | 'relabel';
  className?: string;
}

/**
 * A decision on a likely label error. "keep" re-confirms the current label and "relabel" sets another; both are
 * written as a user annotation (undoable, with who and when) and as a review of that run. A relabel makes the run
 * stale: it trained on the old label.
 */
export function reviewLabel(project: Project, editor: Editor, req: ReviewRequest, author: string): { currentLabel: string | null; review: 'keep' | 'relabel' } {
  const d = loadRunData(project, req.runId);
  if (!d.imageIds.includes(req.imageId)) throw new DermFuseError('NOT_FOUND', `Image ${req.imageId} is not in run ${req.runId}.`);
  const current = currentLabels(project, req.runId, d.labelSetId).get(req.imageId) ?? null;
  const target = req.decision === 'keep' ? current : req.className;
  if (target === null || target === undefined) {
    throw new DermFuseError(
      'INVALID_REQUEST',
      req.decision === 'keep' ? 'This image has no label to keep: choose a class.' : 'Relabel needs the class to set.',
    );
  }
  if (repoOf(project.db, LabelsRepo).primarySet()?.id !== d.labelSetId)
    throw new DermFuseError('UNSUPPORTED', 'This run was trained on a label set that is not the primary one: relabel in that label set from the CLI.');
  writeTransaction(project.db, () => {
    editor.setLabel(req.imageId, target, false, author);
    const annotationId = repoOf(project.db, LabelsRepo).lastAnnotationId(req.imageId);
    repoOf(project.db, ReviewsRepo).add(req.imageId, req.runId, req.decision, annotationId, author);
  })();
  return { currentLabel: target, review: req.decision };
}
