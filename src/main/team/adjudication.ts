import { DermFuseError } from '../../shared/errors.ts';
import { z } from 'zod';
import { jsonColumn } from '../db/json.ts';
import type { Disagreement } from '../../shared/team.ts';
import { repoOf, writeTransaction } from '../db/open.ts';
import { AdjudicationsRepo, type AdjudicationRow } from '../db/repos/adjudicationsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import { taskImages } from './tasks.ts';
import { TeamRepo, type LatestLabelRow } from '../db/repos/teamRepo.ts';
import type { Project } from '../project.ts';
import type { Editor } from '../workbench/edits.ts';
import { chosenLabelSet } from '../workbench/labelSets.ts';
import { ownAdjudicationAllowed } from './accounts.ts';

/** A person's label (their latest, not empty, not an import): what annotators can disagree on. */
const personLabel = (r: LatestLabelRow) => r.source === 'user' && r.label !== null;

/** The label an import gave: a reference (often the biopsy result), shown apart from the annotators. */
const importedLabel = (r: LatestLabelRow) => r.source === 'import' && r.label !== null;

/** Each image's people's labels; `references` collects each image's imported label on the way. */
function peopleLabels(project: Project, labelSetId: number, references?: Map<number, string>): Map<number, LatestLabelRow[]> {
  const out = new Map<number, LatestLabelRow[]>();
  for (const r of repoOf(project.db, TeamRepo).latestLabels(labelSetId)) {
    if (references && importedLabel(r)) references.set(r.image_id, r.label!);
    if (!personLabel(r)) continue;
    let list = out.get(r.image_id);
    if (!list) out.set(r.image_id, (list = []));
    list.push(r);
  }
  return out;
}

/** A run's class names, parsed once per run for a whole list (a run's result JSON is large). */
type RunClasses = Map<number, string[]>;

function modelView(project: Project, imageId: number, runClasses: RunClasses): Disagreement['model'] {
  const repo = repoOf(project.db, AdjudicationsRepo);
  const p = repo.newestPrediction(imageId);
  if (!p) return null;
  let classes = runClasses.get(p.run_id);
  if (!classes) runClasses.set(p.run_id, (classes = repo.runClasses(p.run_id)));
  const probs = jsonColumn(p.fused, z.array(z.number()), `Run ${p.run_id}: a stored prediction`);
  return {
    runId: p.run_id,
    mode: 'fused',
    probabilities: classes.map((className, k) => ({ className, probability: probs[k] ?? 0 })).sort((a, b) => b.probability - a.probability),
  };
}

function toDisagreement(
  project: Project,
  imageId: number,
  labels: LatestLabelRow[],
  decision: AdjudicationRow | undefined,
  reference: string | null,
  runClasses: RunClasses = new Map(),
): Disagreement {
  return {
    imageId,
    externalId: labels[0]!.external_id,
    labels: labels.map((l) => ({ author: l.author, label: l.label, at: l.created_at })),
    model: modelView(project, imageId, runClasses),
    decision: decision ? { label: decision.label ?? '', reason: decision.reason, author: decision.author, at: decision.created_at } : null,
    reference,
  };
}

/**
 * Images of the primary label set whose annotators' latest labels differ (within a task when given). Open ones have
 * no decision newer than their labels; `decided` lists the resolved ones instead.
 */
export function disagreements(project: Project, opts: { taskId?: number; decided?: boolean }): Disagreement[] {
  const set = chosenLabelSet(project);
  const within = opts.taskId === undefined ? null : taskImages(project, opts.taskId);
  const decisions = repoOf(project.db, AdjudicationsRepo).latestDecisions(set.id);
  const out: Disagreement[] = [];
  const runClasses: RunClasses = new Map();
  const references = new Map<number, string>();
  for (const [imageId, labels] of peopleLabels(project, set.id, references)) {
    if (within && !within.has(imageId)) continue;
    if (new Set(labels.map((l) => l.label)).size < 2) continue;
    const decision = decisions.get(imageId);
    const decided = decision !== undefined && decision.annotation_id > Math.max(...labels.map((l) => l.id));
    if (decided === (opts.decided ?? false))
      out.push(toDisagreement(project, imageId, labels, decided ? decision : undefined, references.get(imageId) ?? null, runClasses));
  }
  return out;
}

/**
 * An adjudicator's decision: written as the image's label (an annotation by the adjudicator, so the current label
 * and the staleness of runs follow it) and as an adjudication with the reason, in one transaction.
 */
export function adjudicate(project: Project, editor: Editor, req: { imageId: number; className: string; reason: string }, author: string): Disagreement {
  const set = chosenLabelSet(project);
  if (repoOf(project.db, LabelsRepo).classId(set.id, req.className) === undefined)
    throw new DermFuseError('NOT_FOUND', `No class "${req.className}" in label set "${set.name}".`);
  const all = repoOf(project.db, TeamRepo).latestLabelsOf(set.id, req.imageId);
  const labels = all.filter(personLabel);
  if (labels.length === 0) throw new DermFuseError('NOT_FOUND', `Image ${req.imageId} has no annotators' labels to adjudicate.`);
  // A judge in their own dispute is no second opinion: refused here, whatever the screen offered.
  if (labels.some((l) => l.author === author) && !ownAdjudicationAllowed(project.db))
    throw new DermFuseError(
      'FORBIDDEN',
      `You labelled image ${labels[0]!.external_id} yourself, so another adjudicator decides it (an admin can allow deciding one's own disputes under Team).`,
    );
  const reference = all.find(importedLabel)?.label ?? null;
  writeTransaction(project.db, () => {
    // Not on the undo history: a decision is taken back by another decision, not by Ctrl+Z.
    editor.setLabel(req.imageId, req.className, false, author, false);
    const annotationId = repoOf(project.db, LabelsRepo).lastAnnotationId(req.imageId);
    repoOf(project.db, AdjudicationsRepo).add(req.imageId, set.id, annotationId, req.reason, author);
  })();
  return toDisagreement(project, req.imageId, labels, repoOf(project.db, AdjudicationsRepo).latestDecisions(set.id).get(req.imageId), reference);
}
