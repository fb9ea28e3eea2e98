// Grid query latency on a 100,000-image project, and time to first thumbnails of a 50,000-image project in serve mode.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { RequestOf } from '../../src/shared/api.ts';
import { listImages } from '../../src/main/workbench/browse.ts';
import { Editor } from '../../src/main/workbench/edits.ts';
import { startServer } from '../../src/main/api/http.ts';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import { thumbnailRelPath } from '../../src/main/images/thumbnails.ts';
import { Project } from '../../src/main/project.ts';
import { launch } from '../e2e/browser.ts';
import { rng } from '../fixtures/generate.ts';

const CLASSES = ['ACK', 'BCC', 'MEL', 'NEV', 'SCC', 'SEK'];
const SITES = ['face', 'back', 'chest', 'arm', 'forearm', 'hand', 'neck', 'nose', 'ear', 'lip', 'scalp', 'thigh', 'abdomen', 'foot', 'shin'];
const ANNOTATORS = ['import', 'Dr. Ana Lima', 'Dr. Bruno Reis', 'Dr. Carla Souza'];
/** Distinct thumbnail files: content-addressed, so duplicates share one, as byte-identical photos do. */
const THUMBS = 64;
const REPEATS = 40;
const RENDERER = path.resolve(import.meta.dirname, '../../out/renderer');

/** A project of `n` images with age, sex, site and Fitzpatrick type, 85 % labelled by four annotators: written directly in SQL. */
async function generatedProject(n: number): Promise<{ project: Project; tmp: string }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-grid-'));
  const project = Project.create(path.join(tmp, 'p')).project;
  const db = project.db;
  const thumbs: string[] = [];
  for (let t = 0; t < THUMBS; t++) {
    const sha = t.toString(16).padStart(64, '0');
    const rel = thumbnailRelPath(sha);
    fs.mkdirSync(path.join(project.dir, path.dirname(rel)), { recursive: true });
    await sharp({ create: { width: 256, height: 192, channels: 3, background: { r: 120 + t, g: 80, b: 60 + t } } })
      .jpeg()
      .toFile(path.join(project.dir, rel));
    thumbs.push(rel);
  }
  const rand = rng(42);
  const now = new Date().toISOString();
  db.transaction(() => {
    db.prepare(`INSERT INTO label_sets (id, name, is_primary, created_at) VALUES (1, 'diagnostic', 1, ?)`).run(now);
    CLASSES.forEach((c, i) => db.prepare(`INSERT INTO classes (label_set_id, name, position, hotkey) VALUES (1, ?, ?, ?)`).run(c, i, String(i + 1)));
    const fields = [
      ['age', 'number', null],
      ['gender', 'category', JSON.stringify(['FEMALE', 'MALE'])],
      ['region', 'category', JSON.stringify(SITES)],
      ['fitspatrick', 'ordinal', JSON.stringify(['1', '2', '3', '4', '5', '6'])],
    ] as const;
    fields.forEach(([name, type, allowed], i) =>
      db.prepare(`INSERT INTO fields (name, type, allowed_values, position) VALUES (?, ?, ?, ?)`).run(name, type, allowed, i),
    );
    const img = db.prepare(
      `INSERT INTO images (id, external_id, path, sha256, bytes, mtime_ms, width, height, format, thumb, status, created_at, updated_at) VALUES (?, ?, ?, ?, 1000, 0, 1024, 768, 'jpeg', ?, 'ok', ?, ?)`,
    );
    const val = db.prepare(`INSERT INTO field_values (image_id, field_id, num, text, source, updated_at) VALUES (?, ?, ?, ?, 'import', ?)`);
    const ann = db.prepare(`INSERT INTO annotations (image_id, label_set_id, class_id, author, source, created_at) VALUES (?, 1, ?, ?, ?, ?)`);
    for (let i = 1; i <= n; i++) {
      img.run(i, `PAT_${Math.floor(i / 2)}_${i}`, `/photos/${i}.jpg`, i.toString(16).padStart(64, '0'), thumbs[i % THUMBS]!, now, now);
      if (rand() < 0.95) val.run(i, 1, Math.round(6 + rand() * 85), null, now);
      val.run(i, 2, null, rand() < 0.5 ? 'FEMALE' : 'MALE', now);
      val.run(i, 3, null, SITES[Math.floor(rand() * SITES.length)]!, now);
      if (rand() < 0.7) val.run(i, 4, 1 + Math.floor(rand() * 6), null, now);
      if (rand() < 0.85) {
        const who = ANNOTATORS[Math.floor(rand() * ANNOTATORS.length)]!;
        ann.run(i, 1 + Math.floor(rand() * CLASSES.length), who, who === 'import' ? 'import' : 'user', now);
      }
    }
  })();
  db.pragma('optimize');
  return { project, tmp };
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const round = (x: number) => Math.round(x * 100) / 100;

/** What an annotator does in the grid: open, filter, sort, scroll deep. Each query as the renderer sends it. */
const QUERIES: Record<string, RequestOf<'images.list'>> = {
  open: { offset: 0, limit: 200 },
  unlabelled: { offset: 0, limit: 200, label: null },
  'class+age range, sorted by age desc': {
    offset: 0,
    limit: 200,
    label: 'MEL',
    filters: [{ kind: 'range', field: 'age', min: 40, max: 70 }],
    sort: { by: 'age', desc: true },
  },
  'two sites + missing Fitzpatrick, scrolled to 20,000': {
    offset: 20_000,
    limit: 200,
    filters: [
      { kind: 'values', field: 'region', values: ['face', 'nose'] },
      { kind: 'missing', field: 'fitspatrick' },
    ],
    counts: false,
  },
  'sorted by site, scrolled to 50,000': { offset: 50_000, limit: 200, sort: { by: 'region', desc: false }, counts: false },
  'annotator + id search': { offset: 0, limit: 200, annotator: 'Dr. Ana Lima', search: '_12' },
  'first page of a new sort (with counts)': {
    offset: 0,
    limit: 200,
    sort: { by: 'fitspatrick', desc: true },
    filters: [{ kind: 'values', field: 'gender', values: ['FEMALE'] }],
  },
};

/**
 * Each query measured twice: cold (right after a label edit, so no cached result can be used: what the first page
 * after an edit costs) and warm (the next pages of the same result while scrolling, nothing written in between).
 * indexBuildMs: the first query of an opened project, which builds the grid index.
 */
async function gridQuery(n: number) {
  const t0 = performance.now();
  const { project, tmp } = await generatedProject(n);
  const generateSeconds = (performance.now() - t0) / 1000;
  const editor = new Editor(project);
  // The first query builds the grid index from the database (on opening a project, and after an import).
  const tb = performance.now();
  listImages(project, { offset: 0, limit: 200 });
  const indexBuildMs = performance.now() - tb;
  try {
    const perQuery: Record<string, { coldP50Ms: number; coldP95Ms: number; warmP95Ms: number; matches: number | null }> = {};
    const cold: number[] = [];
    const warm: number[] = [];
    for (const [name, q] of Object.entries(QUERIES)) {
      const c: number[] = [];
      const w: number[] = [];
      let matches: number | null = null;
      for (let r = 0; r < REPEATS; r++) {
        editor.setLabel(1 + r, CLASSES[r % CLASSES.length]!, false, 'bench');
        let t = performance.now();
        const res = listImages(project, q);
        c.push(performance.now() - t);
        matches = res.counts?.total ?? matches;
        t = performance.now();
        listImages(project, { ...q, offset: q.offset + 200 * (1 + (r % 5)), counts: false });
        w.push(performance.now() - t);
      }
      perQuery[name] = { coldP50Ms: round(percentile(c, 50)), coldP95Ms: round(percentile(c, 95)), warmP95Ms: round(percentile(w, 95)), matches };
      cold.push(...c);
      warm.push(...w);
    }
    return {
      images: n,
      generateSeconds: round(generateSeconds),
      indexBuildMs: round(indexBuildMs),
      repeats: REPEATS,
      coldP95Ms: round(percentile(cold, 95)),
      warmP95Ms: round(percentile(warm, 95)),
      aimMs: 30,
      queries: perQuery,
    };
  } finally {
    project.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Opens the served app in Chromium and times until the first screen of thumbnails has loaded. */
async function firstThumbnails(n: number) {
  if (!fs.existsSync(path.join(RENDERER, 'index.html'))) throw new Error('Build the renderer first: npm run build.');
  const { project, tmp } = await generatedProject(n);
  project.close();
  const service = new Service({}, new RecentProjects(path.join(tmp, 'recent.json')));
  service.openProject(path.join(tmp, 'p'));
  const server = await startServer({ service, rendererDir: RENDERER, port: 0 });
  const browser = await launch();
  try {
    const runs: { firstThumbnailsMs: number; thumbnails: number }[] = [];
    for (let r = 0; r < 5; r++) {
      // A new context each time: nothing cached from the run before.
      const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
      const page = await context.newPage();
      const t = performance.now();
      await page.goto(server.url);
      const loaded = await page.waitForFunction(
        () => {
          // Runs in the page: the DOM types are not in the Node tsconfig.
          const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean; naturalWidth: number }> } }).document;
          const imgs = Array.from(doc.querySelectorAll('[data-testid="grid"] img'));
          return imgs.length >= 20 && imgs.slice(0, 20).every((i) => i.complete && i.naturalWidth > 0) ? imgs.length : 0;
        },
        undefined,
        { timeout: 60_000, polling: 10 },
      );
      runs.push({ firstThumbnailsMs: Math.round(performance.now() - t), thumbnails: (await loaded.jsonValue()) as number });
      await context.close();
    }
    const ms = runs.map((x) => x.firstThumbnailsMs);
    return {
      images: n,
      runs: runs.length,
      firstRunMs: ms[0],
      medianMs: percentile(ms, 50),
      maxMs: Math.max(...ms),
      thumbnailsInFirstScreen: runs[0]!.thumbnails,
      what: 'navigation to the first 20 thumbnails decoded (renderer load, project info, first page with counts, thumbnails), fresh browser context each run; the first run also builds the grid index in the server',
    };
  } finally {
    await browser.close();
    await server.close();
    await service.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function gridBench(opts: { thumbnails?: boolean } = {}): Promise<object> {
  const query = await gridQuery(100_000);
  return opts.thumbnails === false ? { query } : { query, firstThumbnails: await firstThumbnails(50_000) };
}
