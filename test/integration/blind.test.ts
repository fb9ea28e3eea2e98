import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, type CallName, type Envelope } from '../../src/shared/api.ts';
import type { JobInfo } from '../../src/shared/jobs.ts';
import type { TaskInfo } from '../../src/shared/team.ts';
import type { ImageDetail } from '../../src/shared/types.ts';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import type { Caller } from '../../src/main/team/accounts.ts';
import { Project } from '../../src/main/project.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { hamCsv, makeImages, tempDir, type FakeImage } from '../fixtures/generate.ts';

/**
 * Blind means blind, proven by non-interference: two projects that differ only in what a blind annotator must not
 * learn (every imported label but the first of each class, and another annotator's labels) must give that annotator
 * the same answer to every call of the contract, byte for byte once times and folders are masked.
 */
const tmp = tempDir();
const N = 12;
const owner = undefined;
const ana: Caller = { name: 'ana', role: 'annotator', account: true };
const ben: Caller = { name: 'ben', role: 'annotator', account: true };
const CLASSES = ['nev', 'mel', 'bcc'];

interface World {
  dir: string;
  service: Service;
  ids: number[];
}
const worlds: World[] = [];

async function call<T>(w: World, caller: Caller | undefined, name: CallName, req: unknown): Promise<T> {
  const env = (await w.service.dispatch(name, req, caller)) as Envelope<T>;
  if (!env.ok) throw new Error(`${name}: ${env.error.message}`);
  return env.value;
}

/** The second world's labels: each image after its class's first appearance moves to the next class (same class order). */
function otherLabels(images: FakeImage[]): FakeImage[] {
  const seen = new Set<string>();
  return images.map((im) => {
    if (!seen.has(im.label)) {
      seen.add(im.label);
      return im;
    }
    const k = CLASSES.indexOf(im.label.toLowerCase());
    return { ...im, label: CLASSES[(k + 1) % CLASSES.length]!.toUpperCase() };
  });
}

async function makeWorld(name: string, images: FakeImage[], anaLabels: string[]): Promise<World> {
  // The same folder name in both worlds: annotators are shown the project's folder name.
  const dir = path.join(tmp.dir, name, 'project');
  const csv = path.join(tmp.dir, `${name}.csv`);
  fs.writeFileSync(csv, hamCsv(images));
  // One file at a time: both worlds give each image the same row id.
  const p = Project.create(dir).project;
  await runImport(p, await planImport({ imagesDir: path.join(tmp.dir, 'images'), metadataPath: csv }, p.dir), { concurrency: 1 });
  p.close();
  const service = new Service({}, new RecentProjects(path.join(tmp.dir, `${name}-recent.json`)), { pinned: true, dataRoots: [tmp.dir] });
  service.openProject(dir);
  const w: World = { dir, service, ids: [] };
  // The owner imports again as a job, so the job list holds a result that counts the (hidden) labels.
  let job = await call<JobInfo>(w, owner, 'jobs.start', {
    kind: 'import',
    imagesDir: path.join(tmp.dir, 'images'),
    metadataPath: path.join(tmp.dir, `${name}.csv`),
  });
  while (job.status === 'running') job = await call<JobInfo>(w, owner, 'jobs.watch', { id: job.id, after: job.version });
  expect(job.status).toBe('done');
  w.ids = (await call<{ items: { id: number }[] }>(w, owner, 'images.list', { offset: 0, limit: 100, sort: { by: 'id', desc: false } })).items.map((i) => i.id);
  await call<TaskInfo>(w, owner, 'team.createTask', { name: 'Round 1', filter: {}, perImage: 2, blind: true });
  // ana labels five images, differently in each world.
  for (let i = 0; i < anaLabels.length; i++) await call(w, ana, 'labels.set', { imageId: w.ids[i], className: anaLabels[i] });
  return w;
}

beforeAll(async () => {
  const images = await makeImages(path.join(tmp.dir, 'images'), N, 7, 24);
  worlds.push(await makeWorld('a', images, ['mel', 'mel', 'nev', 'bcc', 'nev']));
  worlds.push(await makeWorld('b', otherLabels(images), ['bcc', 'nev', 'mel', 'mel', 'bcc']));
}, 120_000);
afterAll(async () => {
  for (const w of worlds) await w.service.close();
  tmp.cleanup();
});

/** Masks what differs between the worlds for reasons other than the hidden labels: times and the worlds' folders. */
function masked(w: World, env: Envelope<unknown>): string {
  return JSON.stringify(env)
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replaceAll(w.dir, '<project>')
    .replace(/"(elapsedSeconds|etaSeconds)":[\d.]+/g, '"$1":0');
}

/**
 * A request for every call of the contract (typed over every call name: a new call cannot be added without one), in
 * an order that labels, undoes and re-reads. `i(k)` is the k-th image of the world.
 */
const REQUESTS = (i: (k: number) => number): { [K in CallName]: unknown } => ({
  'project.create': { dir: path.join(tmp.dir, 'elsewhere') },
  'project.open': { dir: path.join(tmp.dir, 'elsewhere') },
  'project.sample': {},
  'project.info': {},
  'project.recent': {},
  'images.list': { offset: 0, limit: 50, counts: true },
  'images.get': { id: i(0) },
  'labels.set': { imageId: i(1), className: 'mel' },
  'edits.undo': {},
  'labels.setMany': { imageIds: [i(0), i(1), i(2)], className: 'nev' },
  'fields.setMany': { imageIds: [i(3), i(4)], field: 'sex', value: 'male' },
  'images.facets': {},
  'labelSets.get': {},
  'labelSets.save': { classes: [{ name: 'nev', color: null, hotkey: null }], targets: [] },
  'fields.rename': { field: 'sex', displayName: 'Sex at birth' },
  'import.plan': { imagesDir: path.join(tmp.dir, 'images') },
  'jobs.start': { kind: 'quality' },
  'jobs.list': {},
  'jobs.watch': { id: 1, after: -1 },
  'jobs.cancel': { id: 1 },
  'features.list': {},
  'features.catalogue': {},
  'finetune.caches': {},
  'finetune.removeCache': { name: 'none' },
  'runs.list': {},
  'runs.report': { runId: 1 },
  'runs.cases': { runId: 1, mode: 'fused', filter: 'all', limit: 10 },
  'runs.labelIssues': { runId: 1 },
  'runs.map': { runId: 1 },
  'runs.explain': { runId: 1, imageId: i(0), occlusion: false },
  'runs.explainPng': { runId: 1, imageId: i(0) },
  'labels.review': { runId: 1, imageId: i(0), decision: 'keep' },
  'fields.set': { imageId: i(2), field: 'age', value: 50 },
  'settings.getAnnotator': {},
  'settings.setAnnotator': { name: 'someone' },
  'suggestions.apply': { bundle: path.join(tmp.dir, 'no-bundle') },
  'quality.duplicates': {},
  'quality.review': { imageIds: [i(0), i(1)], decision: 'same' },
  'quality.labelNext': {},
  'team.agreement': {},
  'team.me': {},
  'team.tasks': {},
  'team.next': { taskId: 1 },
  'team.createTask': { name: 'x', filter: {}, perImage: 1, blind: false },
  'team.closeTask': { id: 1 },
  'team.disagreements': {},
  'team.adjudicate': { imageId: i(0), className: 'mel', reason: 'r' },
  'team.users': {},
  'team.addUser': { name: 'eve', role: 'annotator' },
  'team.setMetadataEdits': { allowed: false },
  'team.revokeUser': { name: 'ana' },
  'team.activity': {},
  'system.pickFolder': {},
  'files.browse': {},
  'uploads.begin': { files: [{ path: 'x/a.jpg', size: 10 }] },
  'uploads.finish': { id: 'none' },
  'uploads.discard': { id: 'none' },
  'team.setOwnAdjudication': { allowed: false },
  'validations.plan': { runId: 1, source: { kind: 'project', dir: path.join(tmp.dir, 'elsewhere') } },
  'validations.list': { runId: 1 },
  'validations.get': { id: 1 },
});

/** Calls that act on an image, made on each of these: ones ana labelled, ones she did not, and ben's own. */
const PER_IMAGE: CallName[] = ['images.get', 'labels.set', 'edits.undo', 'fields.set', 'team.next', 'project.info', 'labelSets.get', 'jobs.list'];

describe('blind labelling holds on the server', () => {
  it('the two worlds differ where ben must not look (else this test could not fail)', async () => {
    const [a, b] = worlds as [World, World];
    const seen = async (w: World) => JSON.stringify(await call<ImageDetail>(w, owner, 'images.get', { id: w.ids[0] }));
    expect(await seen(a)).not.toBe(await seen(b));
    const counts = async (w: World) => JSON.stringify((await call<{ classes: Record<string, number> }>(w, owner, 'project.info', {})).classes);
    expect(await counts(a)).not.toBe(await counts(b));
  });

  it('every call of the contract answers a blind annotator the same in both worlds, before and after he labels', async () => {
    const names = Object.keys(API) as CallName[];
    const answers = async (w: World, name: CallName, req: unknown) => masked(w, await w.service.dispatch(name, req, ben));
    const compare = async (name: CallName, reqOf: (w: World) => unknown, note: string) => {
      const [a, b] = worlds as [World, World];
      expect(await answers(a, name, reqOf(a)), `${name} ${note}`).toBe(await answers(b, name, reqOf(b)));
    };
    for (const name of names) await compare(name, (w) => REQUESTS((k) => w.ids[k]!)[name], 'first pass');
    // Each image, as ben labels it, changes his mind, undoes, and reads again.
    for (let k = 0; k < N; k++) {
      for (const cls of ['bcc', 'nev']) await compare('labels.set', (w) => ({ imageId: w.ids[k], className: cls }), `image ${k} -> ${cls}`);
      for (const name of PER_IMAGE)
        await compare(name, (w) => (name === 'images.get' ? { id: w.ids[k] } : REQUESTS((j) => w.ids[j]!)[name]), `after labelling image ${k}`);
      await compare('edits.undo', () => ({}), `undo on image ${k}`);
      await compare('images.get', (w) => ({ id: w.ids[k] }), `after undo on image ${k}`);
    }
    for (const name of names) await compare(name, (w) => REQUESTS((k) => w.ids[k]!)[name], 'second pass');
  }, 120_000);

  it("ben sees his own labels only, and an annotator's report hides positives of subgroups too small for figures", async () => {
    const w = worlds[0]!;
    await call(w, ben, 'labels.set', { imageId: w.ids[0], className: 'nev' });
    const d = await call<ImageDetail>(w, ben, 'images.get', { id: w.ids[0] });
    expect(d.history.every((h) => h.author === 'ben')).toBe(true);
    expect(d.label).toBe('nev');
    expect(d.suggestion).toBeNull();
    const { annotatorReport } = await import('../../src/main/team/blind.ts');
    const row = (field: string, tooFew: boolean) => ({ field, group: 'g', n: 1, positives: 1, tooFew, modes: {} });
    const report = annotatorReport({ subgroups: { rows: [row('f', true), row('f', false), row('g', false)] } } as never);
    // The whole field f: its big rows' positives would give the small row's by subtraction from the total.
    expect(report.subgroups.rows.map((r) => r.positives)).toEqual([null, null, 1]);
  });

  it('while blind, only blind tasks are listed and worked; a blind task cannot be chosen by class', async () => {
    const w = worlds[0]!;
    await expect(call(w, owner, 'team.createTask', { name: 'MEL blind', filter: { label: 'mel' }, perImage: 1, blind: true })).rejects.toThrow(
      /a blind task cannot be chosen by class/,
    );
    const counts = (await call<{ counts: { classes: { name: string; count: number }[] } }>(w, owner, 'images.list', { offset: 0, limit: 1, counts: true }))
      .counts;
    const cls = counts.classes.find((c) => c.count > 0)!.name;
    const open = await call<TaskInfo>(w, owner, 'team.createTask', { name: 'Second look', filter: { label: cls }, perImage: 1, blind: false });
    expect((await call<TaskInfo[]>(w, ben, 'team.tasks', {})).map((t) => t.name)).toEqual(['Round 1']);
    await expect(call(w, ben, 'team.next', { taskId: open.id })).rejects.toThrow(/not blind: while a blind task is open/);
    expect((await call<TaskInfo[]>(w, owner, 'team.tasks', {})).map((t) => t.name)).toContain('Second look');
  });
});
