import { DermFuseError } from '../../shared/errors.ts';
import type { RequestOf } from '../../shared/api.ts';
import type { TaskInfo, TaskNext } from '../../shared/team.ts';
import { repoOf } from '../db/open.ts';
import { TasksRepo, type TaskRow } from '../db/repos/tasksRepo.ts';
import type { Project } from '../project.ts';
import { matchingIds } from '../workbench/browse.ts';
import { chosenLabelSet } from '../workbench/labelSets.ts';
import type { Caller } from './accounts.ts';

/** A task bigger than this is a mistake in its filter more likely than a plan (and would slow every queue request). */
export const MAX_TASK_IMAGES = 50_000;

function taskInfo(project: Project, t: TaskRow, known?: { image_id: number; n: number }[]): TaskInfo {
  const repo = repoOf(project.db, TasksRepo);
  const counts = known ?? repo.imageCounts(t);
  return {
    id: t.id,
    name: t.name,
    labelSet: t.label_set,
    perImage: t.per_image,
    blind: t.blind === 1,
    createdBy: t.created_by,
    createdAt: t.created_at,
    closedAt: t.closed_at,
    images: counts.length,
    complete: counts.filter((c) => c.n >= t.per_image).length,
    labels: counts.reduce((s, c) => s + Math.min(c.n, t.per_image), 0),
    needed: counts.length * t.per_image,
    annotators: repo.authorCounts(t).map((a) => ({ name: a.author, labelled: a.n })),
  };
}

function taskRow(project: Project, id: number): TaskRow {
  const t = repoOf(project.db, TasksRepo).get(id);
  if (!t) throw new DermFuseError('NOT_FOUND', `No labelling task ${id}.`);
  return t;
}

/** Creates a task from a browser filter: its images are the filter's matches now (images imported later are not added). */
export function createTask(project: Project, req: RequestOf<'team.createTask'>, caller: Caller): TaskInfo {
  if (req.blind && typeof req.filter.label === 'string')
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `Task "${req.name}": a blind task cannot be chosen by class (its images would tell the annotators their current label). Choose every image, the unlabelled ones, or ids.`,
    );
  const set = chosenLabelSet(project);
  const ids = matchingIds(project, req.filter);
  if (ids.length === 0) throw new DermFuseError('INVALID_ARGUMENT', `Task "${req.name}": the filter matches no image; loosen it in the browser first.`);
  if (ids.length > MAX_TASK_IMAGES)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `Task "${req.name}": the filter matches ${ids.length} images, more than ${MAX_TASK_IMAGES}; split it into smaller tasks.`,
    );
  const repo = repoOf(project.db, TasksRepo);
  if (repo.list().some((t) => t.name.toLowerCase() === req.name.toLowerCase()))
    throw new DermFuseError('INVALID_ARGUMENT', `A task named "${req.name}" exists already: choose another name.`);
  const id = repo.create(
    { name: req.name, labelSetId: set.id, filter: JSON.stringify(req.filter), perImage: req.perImage, blind: req.blind, createdBy: caller.name },
    ids,
  );
  return taskInfo(project, taskRow(project, id));
}

export function listTasks(project: Project): TaskInfo[] {
  return repoOf(project.db, TasksRepo)
    .list()
    .map((t) => taskInfo(project, t));
}

export function closeTask(project: Project, id: number): TaskInfo {
  const t = taskRow(project, id);
  repoOf(project.db, TasksRepo).closeTask(id);
  return taskInfo(project, taskRow(project, t.id));
}

/** A stable per-person shuffle (FNV-1a of name and image): people working at once start on different images. */
function spread(name: string, imageId: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${name}\u0000${imageId}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

/**
 * The caller's next image in a task: one they have not labelled, that has fewer than the task's labels per image;
 * the images with the fewest labels first (overlap spreads evenly), then a per-person order. `skip`: images the
 * caller passed over in this session.
 */
export function nextInTask(project: Project, taskId: number, caller: Caller, skip: readonly number[] = [], blindOnly = false): TaskNext {
  const t = taskRow(project, taskId);
  // While blind, another task's images (perhaps chosen by class) would tell what is hidden.
  if (blindOnly && !t.blind) throw new DermFuseError('FORBIDDEN', `Task ${taskId} is not blind: while a blind task is open, label from the blind task.`);
  const repo = repoOf(project.db, TasksRepo);
  const mine = new Set(repo.labelledByAuthor(t, caller.name));
  const skipped = new Set(skip);
  const counts = repo.imageCounts(t);
  const open = t.closed_at
    ? []
    : counts
        .filter((c) => c.n < t.per_image && !mine.has(c.image_id))
        .sort((a, b) => a.n - b.n || spread(caller.name, a.image_id) - spread(caller.name, b.image_id));
  const next = open.find((c) => !skipped.has(c.image_id)) ?? null;
  return { task: taskInfo(project, t, counts), imageId: next?.image_id ?? null, mine: mine.size, left: open.length };
}

/** A task's readable images (agreement and disagreements within one task). */
export function taskImages(project: Project, taskId: number): Set<number> {
  const t = taskRow(project, taskId);
  return new Set(
    repoOf(project.db, TasksRepo)
      .imageCounts(t)
      .map((c) => c.image_id),
  );
}
