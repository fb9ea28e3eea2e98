import { DermFuseError, toErrorPayload } from '../../shared/errors.ts';
import type { JobInfoOf, JobKind, JobResults } from '../../shared/jobs.ts';
import type { Progress } from '../../shared/types.ts';
import { logger } from '../log.ts';
import type { ProgressFn } from './progress.ts';

const log = logger('jobs');
/** A watcher waits at most this long for news before it is answered with the job unchanged (then asks again). */
export const WATCH_TIMEOUT_MS = 15_000;
/** Finished jobs kept for the jobs list. */
const KEEP_FINISHED = 20;
/** No estimate of the time left before this much of a phase has run: early rates mislead. */
const ETA_MIN_SECONDS = 1;

interface Job<R extends Record<JobKind, unknown>> {
  info: JobInfoOf<R>;
  controller: AbortController;
  /** Where the rate of the current phase is measured from. */
  phaseStart: { phase: string; at: number; done: number };
  waiters: Set<() => void>;
}

/** The work of a job: resolves to its kind's result. */
export type JobBody<K extends JobKind = JobKind, R extends Record<JobKind, unknown> = JobResults> = (
  signal: AbortSignal,
  progress: ProgressFn,
) => Promise<R[K]>;

/**
 * Long work (import, feature extraction, training) as jobs: an id at once, progress with an estimate of the time
 * left, cancel through an AbortController, and the outcome kept for whoever asks. One job runs at a time per
 * project: two jobs writing the same project would compete for its database and its cores.
 */
export class JobManager<R extends Record<JobKind, unknown> = JobResults> {
  private readonly jobs = new Map<number, Job<R>>();
  private nextId = 1;

  start<K extends JobKind>(kind: K, title: string, body: JobBody<K, R>): JobInfoOf<R, K> {
    const running = [...this.jobs.values()].find((j) => j.info.status === 'running');
    if (running) throw new DermFuseError('BUSY', `${running.info.title} is still running: wait for it or cancel it first.`);
    const now = Date.now();
    const job: Job<R> = {
      info: {
        id: this.nextId++,
        kind,
        title,
        status: 'running',
        progress: null,
        startedAt: new Date(now).toISOString(),
        finishedAt: null,
        etaSeconds: null,
        elapsedSeconds: 0,
        result: null,
        error: null,
        version: 0,
      } as JobInfoOf<R>,
      controller: new AbortController(),
      phaseStart: { phase: '', at: now, done: 0 },
      waiters: new Set(),
    };
    this.jobs.set(job.info.id, job);
    this.prune();
    const started = now;
    const progress: ProgressFn = (p) => this.update(job, p, started);
    void body(job.controller.signal, progress).then(
      (result) => this.finish(job, job.controller.signal.aborted ? 'cancelled' : 'done', result, null, started),
      (err: unknown) => {
        const payload = toErrorPayload(err);
        const cancelled = job.controller.signal.aborted || payload.code === 'CANCELLED';
        if (!cancelled && payload.code === 'INTERNAL') log.error(`${title} failed`, err);
        this.finish(job, cancelled ? 'cancelled' : 'failed', null, cancelled ? null : payload, started);
      },
    );
    return job.info as JobInfoOf<R, K>;
  }

  get(id: number): JobInfoOf<R> {
    return this.job(id).info;
  }

  list(): JobInfoOf<R>[] {
    return [...this.jobs.values()].map((j) => j.info).reverse();
  }

  /** Answers when the job has news past `after` (its version), or after the timeout: a long poll, the same on both transports. */
  async watch(id: number, after: number, timeoutMs = WATCH_TIMEOUT_MS): Promise<JobInfoOf<R>> {
    const job = this.job(id);
    if (job.info.version > after || job.info.status !== 'running') return job.info;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        job.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      job.waiters.add(done);
    });
    return job.info;
  }

  cancel(id: number): JobInfoOf<R> {
    const job = this.job(id);
    if (job.info.status === 'running') job.controller.abort();
    return job.info;
  }

  /** Aborts whatever runs (the project is closing) and waits for it to stop. */
  async cancelAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.info.status === 'running');
    for (const j of running) j.controller.abort();
    await Promise.all(running.map((j) => this.watchUntilDone(j)));
  }

  private async watchUntilDone(job: Job<R>): Promise<void> {
    while (job.info.status === 'running') await this.watch(job.info.id, job.info.version, 1000);
  }

  private job(id: number): Job<R> {
    const job = this.jobs.get(id);
    if (!job) throw new DermFuseError('NOT_FOUND', `No job ${id}.`);
    return job;
  }

  private update(job: Job<R>, p: Progress, started: number): void {
    if (job.info.status !== 'running') return;
    const now = Date.now();
    if (p.phase !== job.phaseStart.phase) job.phaseStart = { phase: p.phase, at: now, done: p.done };
    const seconds = (now - job.phaseStart.at) / 1000;
    const rate = (p.done - job.phaseStart.done) / Math.max(seconds, 1e-3);
    const eta = seconds >= ETA_MIN_SECONDS && rate > 0 ? (p.total - p.done) / rate : null;
    this.publish(job, { ...job.info, progress: p, etaSeconds: eta === null ? null : Math.round(eta), elapsedSeconds: Math.round((now - started) / 100) / 10 });
  }

  private finish(job: Job<R>, status: JobInfoOf<R>['status'], result: R[JobKind] | null, error: JobInfoOf<R>['error'], started: number): void {
    // The result comes from this job's own body, so it is of the job's kind (a correlation the type cannot follow).
    this.publish(job, {
      ...job.info,
      status,
      result: result ?? null,
      error,
      etaSeconds: null,
      finishedAt: new Date().toISOString(),
      elapsedSeconds: Math.round((Date.now() - started) / 100) / 10,
    } as JobInfoOf<R>);
  }

  private publish(job: Job<R>, info: JobInfoOf<R>): void {
    job.info = { ...info, version: job.info.version + 1 };
    for (const w of [...job.waiters]) w();
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.info.status !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.info.id);
  }
}
