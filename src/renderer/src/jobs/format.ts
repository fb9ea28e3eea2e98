import type { JobInfo } from '../../../shared/jobs.ts';

/** "1 min 05 s", "12 s": how long is left, readable at a glance. */
export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.max(0, Math.round(s))} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The one line a job shows: phase, count, percent and the time left. */
export function describeJob(job: JobInfo): string {
  const p = job.progress;
  if (job.status !== 'running') return `${job.title}: ${job.status}${job.error ? ` — ${job.error.message}` : ''} (${formatSeconds(job.elapsedSeconds)})`;
  if (!p) return `${job.title}: starting…`;
  const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 0;
  const eta = job.etaSeconds === null ? 'estimating time left' : `${formatSeconds(job.etaSeconds)} left`;
  return `${job.title}: ${p.phase} ${p.done}/${p.total} (${pct}%) · ${eta}${p.message ? ` · ${p.message}` : ''}`;
}

export function percentOf(job: JobInfo): number {
  const p = job.progress;
  if (job.status === 'done') return 100;
  return p && p.total > 0 ? (100 * p.done) / p.total : 0;
}
