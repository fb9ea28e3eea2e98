import type { JobInfo } from '../../shared/jobs.ts';
import type { RunReportView } from '../../shared/results.ts';
import type { ImageDetail, LabelSetInfo, ProjectInfo } from '../../shared/types.ts';

/**
 * An image as a blind annotator sees it while a blind task is open: their own labels only. No one else's label or
 * history, no import, no model suggestion — before they label it and after (seeing the others' labels once theirs
 * is given would still tell them what the rest said, and the label they could then change).
 */
export function blindDetail(d: ImageDetail, name: string): ImageDetail {
  const own = d.history.filter((h) => h.source === 'user' && h.author === name);
  const current = own.find((h) => !h.withdrawn);
  return { ...d, label: current?.label ?? null, unsure: current?.unsure ?? false, suggestion: null, history: own };
}

/** The project's counts hide the labels: per-class counts and the labelled count move when someone else labels. */
export function blindInfo(info: ProjectInfo): ProjectInfo {
  return { ...info, labelled: 0, classes: Object.fromEntries(Object.keys(info.classes).map((c) => [c, 0])), countsHidden: true };
}

/** The label set without its class counts (they move with other people's labels). */
export function blindLabelSet(info: LabelSetInfo): LabelSetInfo {
  return { ...info, classes: info.classes.map((c) => ({ ...c, count: 0 })), countsHidden: true };
}

/** Plain titles per job kind: an annotator sees what runs, not the server's folders or a job's result. */
const JOB_TITLES: { [K in JobInfo['kind']]: string } = {
  import: 'Import',
  extract: 'Feature extraction',
  train: 'Training',
  quality: 'Data-quality scan',
  validate: 'External validation',
};

/**
 * A job as an annotator sees it: kind, status and progress counts; no result (paths, counts that follow the labels),
 * no title or message naming a server path, and an error's code without its text.
 */
export function annotatorJob(j: JobInfo): JobInfo {
  return {
    ...j,
    title: JOB_TITLES[j.kind],
    result: null,
    progress: j.progress ? { phase: j.progress.phase, done: j.progress.done, total: j.progress.total } : null,
    error: j.error ? { code: j.error.code, message: 'The job failed: an admin can see why.' } : null,
  } as JobInfo;
}

/**
 * A run's report as an annotator sees it: a field with a subgroup too small for figures shows no count of positives
 * in any of its subgroups (one image with a rare field value would otherwise give away its diagnosis).
 */
export function annotatorReport(r: RunReportView): RunReportView {
  // Every row of such a field: the positives of the small rows would follow from the total minus the others.
  const hiding = new Set(r.subgroups.rows.filter((row) => row.tooFew).map((row) => row.field));
  return { ...r, subgroups: { ...r.subgroups, rows: r.subgroups.rows.map((row) => (hiding.has(row.field) ? { ...row, positives: null } : row)) } };
}
