import { Button, Group, Progress, Text } from '@mantine/core';
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { RequestOf } from '../../../shared/api.ts';
import type { JobInfo } from '../../../shared/jobs.ts';
import { api } from '../api.ts';
import { describeJob, percentOf } from './format.ts';
import { useShowError } from '../errors.tsx';

interface Jobs {
  /** The running job, or the last one to finish (until dismissed). */
  current: JobInfo | null;
  /** Starts a job and resolves with it once it has ended (done, failed or cancelled). Rejects if it cannot start. */
  run(req: RequestOf<'jobs.start'>): Promise<JobInfo>;
  cancel(): void;
  dismiss(): void;
}

const JobsCtx = createContext<Jobs | null>(null);

export function useJobs(): Jobs {
  const ctx = useContext(JobsCtx);
  if (!ctx) throw new Error('useJobs outside JobsProvider');
  return ctx;
}

/** Follows a job by long poll (`jobs.watch`) until it ends: the same on IPC and HTTP. */
async function follow(start: JobInfo, onUpdate: (j: JobInfo) => void): Promise<JobInfo> {
  let job = start;
  let failures = 0;
  while (job.status === 'running') {
    try {
      job = await api['jobs.watch']({ id: job.id, after: job.version });
      failures = 0;
      onUpdate(job);
    } catch (err) {
      // A dropped connection is retried a few times before the job is given up on (it still runs in main).
      if (++failures > 5) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return job;
}

export function JobsProvider({ children }: { children: ReactNode }) {
  const showError = useShowError();
  const [current, setCurrent] = useState<JobInfo | null>(null);
  const latest = useRef<JobInfo | null>(null);
  const update = useCallback((j: JobInfo) => {
    latest.current = j;
    setCurrent(j);
  }, []);

  // A job started before a reload (or by another window) is picked up again.
  useEffect(() => {
    api['jobs.list']({}).then(
      (list) => {
        const running = list.find((j) => j.status === 'running');
        if (running) {
          update(running);
          void follow(running, update);
        }
      },
      (err: unknown) => showError('Looking for a running job', err),
    );
  }, [update, showError]);

  const run = useCallback(
    async (req: RequestOf<'jobs.start'>) => {
      const job = await api['jobs.start'](req);
      update(job);
      return follow(job, update);
    },
    [update],
  );
  const cancel = useCallback(() => {
    if (latest.current?.status === 'running') void api['jobs.cancel']({ id: latest.current.id });
  }, []);
  const dismiss = useCallback(() => setCurrent((c) => (c?.status === 'running' ? c : null)), []);
  return <JobsCtx.Provider value={{ current, run, cancel, dismiss }}>{children}</JobsCtx.Provider>;
}

/** The job bar under the header: progress, time left, cancel; the outcome stays until dismissed. */
export function JobBar() {
  const { current, cancel, dismiss } = useJobs();
  if (!current) return null;
  const running = current.status === 'running';
  const color = current.status === 'failed' ? 'red' : current.status === 'cancelled' ? 'yellow' : 'blue';
  return (
    <Group
      px="md"
      py={4}
      gap="sm"
      wrap="nowrap"
      data-testid="job-bar"
      data-job={current.id}
      data-status={current.status}
      data-kind={current.kind}
      style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }}
    >
      <Progress value={percentOf(current)} color={color} w={200} animated={running} aria-label="job progress" />
      <Text size="xs" style={{ flex: 1 }} truncate data-testid="job-text">
        {describeJob(current)}
      </Text>
      {running ? (
        <Button size="compact-xs" color="red" variant="light" onClick={cancel} data-testid="job-cancel">
          Cancel
        </Button>
      ) : (
        <Button size="compact-xs" variant="subtle" onClick={dismiss}>
          Dismiss
        </Button>
      )}
    </Group>
  );
}
