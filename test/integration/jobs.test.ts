import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import { JobManager } from '../../src/main/jobs/manager.ts';
import type { JobInfoOf, JobKind } from '../../src/shared/jobs.ts';

/** The manager is generic over result types: these tests give their jobs plain results of their own. */
type TestResults = Record<JobKind, unknown>;
type JobInfo = JobInfoOf<TestResults>;
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

async function until(m: JobManager<TestResults>, id: number): Promise<JobInfo> {
  let j = m.get(id);
  while (j.status === 'running') j = await m.watch(id, j.version, 2000);
  return j;
}

describe('job manager', () => {
  it('reports progress with an estimate of the time left, then the result', async () => {
    const m = new JobManager<TestResults>();
    const seen: JobInfo[] = [];
    const job = m.start('import', 'count', async (_signal, progress) => {
      for (let i = 1; i <= 6; i++) {
        progress({ phase: 'counting', done: i, total: 6 });
        await new Promise((r) => setTimeout(r, 250));
      }
      return { counted: 6 };
    });
    let j: JobInfo = job;
    while (j.status === 'running') {
      j = await m.watch(j.id, j.version, 2000);
      seen.push(j);
    }
    expect(j).toMatchObject({ status: 'done', result: { counted: 6 }, error: null });
    const withEta = seen.filter((s) => s.etaSeconds !== null);
    expect(withEta.length).toBeGreaterThan(0);
    // After ~1 s of 4 steps/s with 2 left, the estimate is about half a second: not minutes, not negative.
    expect(withEta.every((s) => s.etaSeconds! >= 0 && s.etaSeconds! <= 3)).toBe(true);
    expect(seen.map((s) => s.version)).toEqual([...seen.map((s) => s.version)].sort((a, b) => a - b));
  });

  it('cancels through the signal, refuses a second job while one runs, and keeps a failure with its message', async () => {
    const m = new JobManager<TestResults>();
    const job = m.start(
      'extract',
      'slow',
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })))),
    );
    expect(() => m.start('import', 'other', async () => 1)).toThrow(/slow is still running/);
    m.cancel(job.id);
    expect((await until(m, job.id)).status).toBe('cancelled');
    const bad = m.start('train', 'bad', async () => {
      throw new Error('no features');
    });
    expect(await until(m, bad.id)).toMatchObject({ status: 'failed', error: { message: 'no features' } });
  });
});

describe('jobs through the service contract', () => {
  it('previews an import, then imports as a job with progress; the counts match the preview', async () => {
    tmp = tempDir();
    const images = path.join(tmp.dir, 'images');
    const fakes = await makeImages(images, 24, 3, 32);
    fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes.slice(0, 20), 3));
    const service = new Service({}, new RecentProjects(path.join(tmp.dir, 'recent.json')));
    const call = async (name: string, req: unknown) => {
      const env = await service.dispatch(name, req);
      if (!env.ok) throw new Error(env.error.message);
      return env.value as never;
    };
    await call('project.create', { dir: path.join(tmp.dir, 'p') });
    const preview = (await call('import.plan', { imagesDir: images, metadataPath: path.join(tmp.dir, 'm.csv') })) as {
      preset: string;
      images: number;
      rowsMatched: number;
      rowsWithoutImage: number;
      mapping: { fields: { name: string; type: string }[] };
    };
    expect(preview).toMatchObject({ preset: 'ham10000', images: 24, rowsMatched: 20, rowsWithoutImage: 3 });
    expect(preview.mapping.fields.find((f) => f.name === 'age')?.type).toBe('number');
    // Nothing was written by the preview.
    expect(((await call('project.info', {})) as { images: number }).images).toBe(0);
    let job = (await call('jobs.start', { kind: 'import', imagesDir: images, metadataPath: path.join(tmp.dir, 'm.csv') })) as JobInfo;
    const phases = new Set<string>();
    while (job.status === 'running') {
      job = (await call('jobs.watch', { id: job.id, after: job.version })) as JobInfo;
      if (job.progress) phases.add(job.progress.phase);
    }
    expect(job.status).toBe('done');
    expect(phases.size).toBeGreaterThan(0);
    expect(job.result).toMatchObject({ imagesAdded: 24, rowsMatched: 20 });
    expect(((await call('project.info', {})) as { images: number }).images).toBe(24);
    const bad = await service.dispatch('jobs.start', { kind: 'import', imagesDir: path.join(tmp.dir, 'nope') });
    expect(bad.ok).toBe(true);
    let failed = (bad as { value: JobInfo }).value;
    while (failed.status === 'running') failed = (await call('jobs.watch', { id: failed.id, after: failed.version })) as JobInfo;
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toContain('nope');
    await service.close();
  });
});
