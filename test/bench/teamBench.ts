// 20 annotators labelling one served project (the PAD photos) for 60 s over HTTP, with a grid reader alongside.
import { Project } from '../../src/main/project.ts';
import { addAccount } from '../../src/main/team/accounts.ts';
import { createTask } from '../../src/main/team/tasks.ts';
import { annotate, post, quantile } from '../fixtures/teamLoad.ts';
import { serveProcess } from '../fixtures/serveProcess.ts';
import { withPadProject } from './padProject.ts';

const ANNOTATORS = 20;
const LOAD_MS = 60_000;
/** One label a second per annotator: several times a dermatologist's pace (they look at each photo for seconds). */
const PACE_MS = 1_000;
/** The saturation run: no pause between labels, to find the most the server takes. */
const SATURATION_MS = 20_000;
const BASELINE_MS = 5_000;
const PER_IMAGE = 5;

const ms = (x: number) => Math.round(x * 10) / 10;

/** Pages of the grid (200 images, counts on), one after another until `until`: their latencies in ms. */
async function readGrid(port: number, token: string, until: number): Promise<number[]> {
  const out: number[] = [];
  for (let page = 0; Date.now() < until; page = (page + 1) % 3) {
    const t0 = performance.now();
    await post(port, token, 'images.list', { offset: page * 200, limit: 200, counts: true, sort: { by: 'annotated', desc: true } });
    out.push(performance.now() - t0);
  }
  return out;
}

export async function teamBench(shared: string): Promise<object> {
  return withPadProject(shared, async (project) => {
    const people = Array.from({ length: ANNOTATORS }, (_, i) => ({ name: `reader${i + 1}`, token: addAccount(project.db, `reader${i + 1}`, 'annotator') }));
    // Not blind: the owner's grid reader may read labels while the team works.
    const task = createTask(project, { name: 'load', filter: {}, perImage: PER_IMAGE, blind: false }, { name: 'admin', role: 'admin', account: false });
    const classes = ['ACK', 'BCC', 'MEL', 'NEV', 'SCC', 'SEK'];
    project.close();
    const server = await serveProcess(project.dir);
    try {
      const baseline = await readGrid(server.port, server.token, Date.now() + BASELINE_MS);
      const until = Date.now() + LOAD_MS;
      const [load, underLoad] = await Promise.all([
        annotate(server.port, people, task.id, classes, { until, paceMs: PACE_MS }),
        readGrid(server.port, server.token, until),
      ]);
      const saturated = await annotate(server.port, people, task.id, classes, { until: Date.now() + SATURATION_MS });
      await server.stop();
      const p = Project.open(project.dir);
      const rows = p.db.prepare(`SELECT author, image_id FROM annotations WHERE source = 'user'`).all() as { author: string; image_id: number }[];
      p.close();
      const stored = new Set(rows.map((r) => `${r.author}|${r.image_id}`));
      return {
        annotators: ANNOTATORS,
        seconds: LOAD_MS / 1000,
        task: { images: task.images, labelsPerImage: PER_IMAGE },
        labelsAcknowledged: load.acked.length,
        labelsPerSecond: ms(load.acked.length / (LOAD_MS / 1000)),
        failedRequests: load.failed,
        lost: load.acked.filter((a) => !stored.has(`${a.author}|${a.imageId}`)).length,
        duplicated: rows.length - stored.size,
        paceMsPerAnnotator: PACE_MS,
        labelLatencyMs: { p50: ms(quantile(load.latencies, 0.5)), p95: ms(quantile(load.latencies, 0.95)), p99: ms(quantile(load.latencies, 0.99)) },
        saturation: {
          seconds: SATURATION_MS / 1000,
          labelsPerSecond: ms(saturated.acked.length / (SATURATION_MS / 1000)),
          labelLatencyMs: { p50: ms(quantile(saturated.latencies, 0.5)), p95: ms(quantile(saturated.latencies, 0.95)) },
          lost: saturated.acked.filter((a) => !stored.has(`${a.author}|${a.imageId}`)).length,
        },
        gridPageMs: {
          alone: { pages: baseline.length, p50: ms(quantile(baseline, 0.5)), p95: ms(quantile(baseline, 0.95)) },
          duringLabelling: { pages: underLoad.length, p50: ms(quantile(underLoad, 0.5)), p95: ms(quantile(underLoad, 0.95)) },
        },
      };
    } finally {
      if (server.child.exitCode === null) await server.stop();
    }
  });
}
