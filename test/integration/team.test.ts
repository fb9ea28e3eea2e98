import os from 'node:os';
import { startServer } from '../../src/main/api/http.ts';
import { RENDERER } from '../e2e/serveProject.ts';
import { apiCall, rawRequest, signInSession } from '../fixtures/rawHttp.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, type CallName, type Envelope } from '../../src/shared/api.ts';
import { MIN_ROLE } from '../../src/shared/roles.ts';
import { ROLES, roleAtLeast, type Disagreement, type Me, type TaskInfo, type TaskNext } from '../../src/shared/team.ts';
import type { Field, ImageDetail } from '../../src/shared/types.ts';
import type { Service } from '../../src/main/api/service.ts';
import { addAccount, type Caller } from '../../src/main/team/accounts.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { servedService, type ServedService } from '../fixtures/servedService.ts';

const tmp = tempDir();
let service: Service;
let projectDir: string;
let ids: number[];
let call: ServedService['call'];

const as = (name: string, role: Caller['role']): Caller => ({ name, role, account: true });
const ana = as('ana', 'annotator');
const ben = as('ben', 'annotator');
const cy = as('cy', 'adjudicator');
const root = as('root', 'admin');

async function refused(caller: Caller | undefined, name: CallName, req: unknown): Promise<string> {
  const env = await service.dispatch(name, req, caller);
  if (env.ok) throw new Error(`${name} was allowed for ${caller?.name ?? 'the owner'}`);
  expect(env.error.code).toBe('FORBIDDEN');
  return env.error.message;
}

beforeAll(async () => {
  ({ service, projectDir, ids, call } = await servedService(tmp.dir, 12, 2));
}, 60_000);
afterAll(async () => {
  await service?.close();
  tmp.cleanup();
});

describe('roles: every call is checked against the caller', () => {
  it('refuses each call to every role below its minimum, and does not refuse it for the role itself', async () => {
    for (const name of Object.keys(API) as CallName[]) {
      for (const role of ROLES) {
        const env = await service.dispatch(name, { __probe: true }, as(`probe-${role}`, role));
        const byRole = !env.ok && env.error.code === 'FORBIDDEN' && env.error.message.includes('role');
        expect(byRole, `${name} as ${role}`).toBe(!roleAtLeast(role, MIN_ROLE[name]));
      }
    }
  });

  it('an annotator labels; only adjudicators see per-image model output; only admins change the project', async () => {
    await call(ana, 'labels.set', { imageId: ids[0], className: 'mel' });
    expect(await refused(ana, 'runs.cases', { runId: 1, mode: 'fused', filter: 'all', limit: 10 })).toMatch(
      /needs the adjudicator role; ana is signed in as an annotator/,
    );
    expect(await refused(cy, 'labelSets.save', { classes: [{ name: 'x', color: null, hotkey: null }], targets: [] })).toMatch(/admin role/);
    expect(await refused(ana, 'team.addUser', { name: 'eve', role: 'admin' })).toMatch(/admin role/);
    expect(await refused(cy, 'jobs.start', { kind: 'quality' })).toMatch(/admin role/);
  });

  it('an admin names a field for the screens; blank or the name itself shows the name again; an unknown field is named', async () => {
    const fields = await call<Field[]>(root, 'fields.rename', { field: 'sex', displayName: '  Sex at birth ' });
    expect(fields.find((f) => f.name === 'sex')!.displayName).toBe('Sex at birth');
    expect((await call<ImageDetail>(ana, 'images.get', { id: ids[0] })).fields.find((f) => f.name === 'sex')!.displayName).toBe('Sex at birth');
    expect((await call<Field[]>(root, 'fields.rename', { field: 'sex', displayName: 'sex' })).find((f) => f.name === 'sex')!.displayName).toBeNull();
    await call(root, 'fields.rename', { field: 'sex', displayName: 'Sex' });
    expect((await call<Field[]>(root, 'fields.rename', { field: 'sex', displayName: '   ' })).find((f) => f.name === 'sex')!.displayName).toBeNull();
    // A name another field has, or is shown by, is refused: two fields shown alike could not be told apart.
    await expect(call(root, 'fields.rename', { field: 'age', displayName: 'SEX' })).rejects.toThrow(
      'displayName: "SEX" is what the field "sex" is called already: choose another name for "age".',
    );
    const env = await service.dispatch('fields.rename', { field: 'nope', displayName: 'x' }, root);
    expect(env.ok ? null : env.error).toMatchObject({ code: 'NOT_FOUND', message: 'field: the project has no field "nope".' });
    expect(await refused(cy, 'fields.rename', { field: 'sex', displayName: 'x' })).toMatch(/admin role/);
  });

  it('edits carry the account, not a typed name; an annotator cannot rename themselves', async () => {
    const d = await call<ImageDetail>(ben, 'labels.set', { imageId: ids[1], className: 'nev' });
    expect(d.history[0]).toMatchObject({ author: 'ben', label: 'nev', source: 'user' });
    await refused(ben, 'settings.setAnnotator', { name: 'ana' });
    expect((await call<Me>(ben, 'team.me', {})).name).toBe('ben');
  });

  it('metadata edits by annotators follow the project setting; adjudicators may always', async () => {
    await call(ana, 'fields.set', { imageId: ids[2], field: 'age', value: 41 });
    expect((await call<Me>(root, 'team.me', {})).annotatorsEditMetadata).toBe(true);
    await refused(cy, 'team.setMetadataEdits', { allowed: false });
    expect(await call(root, 'team.setMetadataEdits', { allowed: false })).toEqual({ annotatorsEditMetadata: false });
    expect((await call<Me>(root, 'team.me', {})).annotatorsEditMetadata).toBe(false);
    expect(await refused(ana, 'fields.set', { imageId: ids[2], field: 'age', value: 42 })).toMatch(/annotators do not edit metadata/);
    expect(await refused(ana, 'fields.setMany', { imageIds: [ids[2]], field: 'age', value: 42 })).toMatch(/annotators do not edit metadata/);
    expect((await call<Me>(ana, 'team.me', {})).metadataEdits).toBe(false);
    expect((await call<ImageDetail>(cy, 'fields.set', { imageId: ids[2], field: 'age', value: 43 })).metadata.age).toBe(43);
  });

  it("one person's undo reverts their own edit only, and puts back their own previous label", async () => {
    await call(ana, 'labels.set', { imageId: ids[3], className: 'mel' });
    await call(ben, 'labels.set', { imageId: ids[3], className: 'nev' });
    const undone = await call<{ image: ImageDetail }>(ana, 'edits.undo', {});
    expect(undone.image.id).toBe(ids[3]);
    // ana's undo withdraws her own label (kept in the history, marked); ben's stays current, nothing is written as ana's.
    const image = await call<ImageDetail>(root, 'images.get', { id: ids[3] });
    expect(image.history.filter((h) => h.author === 'ana').map((h) => [h.label, h.withdrawn])).toEqual([['mel', true]]);
    expect(image.history.filter((h) => h.author === 'ben').map((h) => h.label)).toEqual(['nev']);
    expect(image.label).toBe('nev');
  });
});

describe('labelling tasks', () => {
  let task: TaskInfo;
  it('an admin makes a task from a filter; each annotator gets a queue, fewest labels first, spread between people', async () => {
    task = await call<TaskInfo>(root, 'team.createTask', { name: 'Round 1', filter: { search: '' }, perImage: 2, blind: true });
    expect(task).toMatchObject({ images: 12, perImage: 2, blind: true, createdBy: 'root', needed: 24 });
    await expect(call(root, 'team.createTask', { name: 'round 1', filter: {}, perImage: 2, blind: false })).rejects.toThrow(/exists already/);
    await expect(call(root, 'team.createTask', { name: 'none', filter: { search: 'no-such-image' }, perImage: 2, blind: false })).rejects.toThrow(
      /matches no image/,
    );
    const a = await call<TaskNext>(ana, 'team.next', { taskId: task.id });
    const b = await call<TaskNext>(ben, 'team.next', { taskId: task.id });
    // Images nobody labelled come first; the two annotators start on different images.
    for (const n of [a, b]) expect([ids[0], ids[1], ids[3]]).not.toContain(n.imageId);
    expect(a.imageId).not.toBe(b.imageId);
    const skipped = await call<TaskNext>(ana, 'team.next', { taskId: task.id, skip: [a.imageId] });
    expect(skipped.imageId).not.toBe(a.imageId);
  });

  it("blind: an annotator sees no one else's label or suggestion until they labelled the image, and cannot browse labels", async () => {
    expect((await call<Me>(ana, 'team.me', {})).blind).toBe(true);
    expect((await call<Me>(cy, 'team.me', {})).blind).toBe(false);
    // ids[1] carries ben's "nev" (and its imported label): hidden from ana.
    const hidden = await call<ImageDetail>(ana, 'images.get', { id: ids[1] });
    expect(hidden.label).toBeNull();
    expect(hidden.history).toEqual([]);
    expect(await refused(ana, 'images.list', { offset: 0, limit: 10 })).toMatch(/blind labelling task is open/);
    await refused(ana, 'images.facets', {});
    await refused(ana, 'labels.setMany', { imageIds: [ids[1]], className: 'mel' });
    // Once ana labelled it, she sees her own label only while the task is open.
    const after = await call<ImageDetail>(ana, 'labels.set', { imageId: ids[1], className: 'mel' });
    expect(after.history.map((h) => h.author)).toEqual(['ana']);
    expect(after.label).toBe('mel');
    // The adjudicator is never blind.
    expect((await call<ImageDetail>(cy, 'images.get', { id: ids[1] })).history.map((h) => h.author)).toContain('ben');
  });

  it('queues run dry when every image has its labels; progress per annotator and task', async () => {
    // Progress counts an undo: the image taken back is no longer counted as labelled, and comes up again.
    const mineNow = async () => (await call<TaskNext>(ana, 'team.next', { taskId: task.id })).mine;
    const before = await mineNow();
    const n = await call<TaskNext>(ana, 'team.next', { taskId: task.id });
    await call(ana, 'labels.set', { imageId: n.imageId, className: 'mel' });
    expect(await mineNow()).toBe(before + 1);
    expect((await call<{ undone: string }>(ana, 'edits.undo', {})).undone).toMatch(/^label of \S+ back to /);
    expect(await mineNow()).toBe(before);
    for (const who of [ana, ben]) {
      for (;;) {
        const n = await call<TaskNext>(who, 'team.next', { taskId: task.id });
        if (n.imageId === null) break;
        await call(who, 'labels.set', { imageId: n.imageId, className: n.imageId % 3 === 0 && who === ben ? 'nev' : 'mel' });
      }
    }
    const [t] = await call<TaskInfo[]>(ana, 'team.tasks', {});
    expect(t).toMatchObject({ images: 12, complete: 12, labels: 24 });
    expect(Object.fromEntries(t!.annotators.map((a) => [a.name, a.labelled]))).toEqual({ ana: 12, ben: 12 });
    expect((await call<TaskNext>(cy, 'team.next', { taskId: task.id })).imageId).toBeNull();
  });

  it('the adjudicator resolves a disagreement with a reason; the decision becomes the label, others reopen it', async () => {
    const open = await call<Disagreement[]>(cy, 'team.disagreements', { taskId: task.id });
    expect(open.length).toBeGreaterThan(0);
    const d = open[0]!;
    expect(new Set(d.labels.map((l) => l.label)).size).toBe(2);
    await expect(call(cy, 'team.adjudicate', { imageId: d.imageId, className: 'mel', reason: '' })).rejects.toThrow(/reason/);
    const decided = await call<Disagreement>(cy, 'team.adjudicate', { imageId: d.imageId, className: 'nev', reason: 'irregular network on dermoscopy' });
    expect(decided.decision).toMatchObject({ label: 'nev', author: 'cy', reason: 'irregular network on dermoscopy' });
    expect((await call<ImageDetail>(root, 'images.get', { id: d.imageId })).label).toBe('nev');
    // Ctrl+Z does not take a decision back: cy's undo reverts cy's earlier metadata edit instead.
    expect((await call<{ image: ImageDetail }>(cy, 'edits.undo', {})).image.id).toBe(ids[2]);
    expect((await call<ImageDetail>(root, 'images.get', { id: d.imageId })).label).toBe('nev');
    expect((await call<Disagreement[]>(cy, 'team.disagreements', { taskId: task.id })).map((x) => x.imageId)).not.toContain(d.imageId);
    expect((await call<Disagreement[]>(cy, 'team.disagreements', { taskId: task.id, decided: true })).map((x) => x.imageId)).toContain(d.imageId);
    // The decision is not a third annotator's label: agreement still counts two annotators on that image.
    const report = await call<{ annotators: { name: string }[] }>(cy, 'team.agreement', { taskId: task.id });
    expect(report.annotators.map((a) => a.name)).not.toContain('cy');
    // A later label by an annotator reopens it.
    await call(ana, 'labels.set', { imageId: d.imageId, className: 'mel' });
    expect((await call<Disagreement[]>(cy, 'team.disagreements', { taskId: task.id })).map((x) => x.imageId)).toContain(d.imageId);
  });

  it('refuses an adjudicator a dispute they labelled themselves, until an admin allows it', async () => {
    const d = (await call<Disagreement[]>(cy, 'team.disagreements', { taskId: task.id }))[0]!;
    await call(cy, 'labels.set', { imageId: d.imageId, className: 'mel' });
    await expect(call(cy, 'team.adjudicate', { imageId: d.imageId, className: 'mel', reason: 'mine' })).rejects.toThrow(
      /^You labelled image \S+ yourself, so another adjudicator decides it/,
    );
    expect((await call<Me>(cy, 'team.me', {})).adjudicateOwn).toBe(false);
    await expect(call(cy, 'team.setOwnAdjudication', { allowed: true })).rejects.toThrow(/admin/);
    await call(root, 'team.setOwnAdjudication', { allowed: true });
    const decided = await call<Disagreement>(cy, 'team.adjudicate', { imageId: d.imageId, className: 'mel', reason: 'allowed by the admin' });
    expect(decided.decision).toMatchObject({ author: 'cy', label: 'mel' });
    await call(root, 'team.setOwnAdjudication', { allowed: false });
  });

  it('closing the task ends blindness and empties the queues', async () => {
    await call(root, 'team.closeTask', { id: task.id });
    expect((await call<Me>(ana, 'team.me', {})).blind).toBe(false);
    expect((await call<{ items: unknown[] }>(ana, 'images.list', { offset: 0, limit: 10 })).items.length).toBe(10);
  });
});

describe('queue cost', () => {
  it("counts each task image's labels through the image's own annotations, not a pass over the label set per image", () => {
    // The plan, not a timing: the per-author index once made this query 40x slower on 686 images.
    const p = Project.open(projectDir);
    try {
      const plan = (
        p.db
          .prepare(
            `EXPLAIN QUERY PLAN SELECT (SELECT COUNT(DISTINCT a.author) FROM annotations a WHERE a.image_id = ti.image_id AND a.label_set_id = 1
               AND a.source = 'user' AND a.class_id IS NOT NULL) FROM task_images ti WHERE ti.task_id = 1`,
          )
          .all() as { detail: string }[]
      ).map((r) => r.detail);
      expect(plan.some((d) => d.includes('annotations_image (image_id=? AND label_set_id=?)'))).toBe(true);
    } finally {
      p.close();
    }
  });
});

describe('accounts', () => {
  it('a personal token signs in as its account until revoked; names are unique regardless of case', async () => {
    const p = Project.open(projectDir);
    const token = addAccount(p.db, 'Dora', 'annotator');
    expect(() => addAccount(p.db, 'dora', 'admin')).toThrow(/exists already/);
    expect(() => addAccount(p.db, '<script>', 'admin')).toThrow(/Account name/);
    expect(p.db.prepare('SELECT token_hash FROM accounts WHERE name = ?').pluck().get('Dora')).not.toContain(token);
    p.close();
    expect(service.accountFor(token)).toMatchObject({ name: 'Dora', role: 'annotator', account: true });
    // One character changed (a token ending in 0 gets a 1).
    expect(service.accountFor(`${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`)).toBeNull();
    await call(root, 'team.revokeUser', { name: 'Dora' });
    expect(service.accountFor(token)).toBeNull();
  });
});

describe('serve with accounts', () => {
  it('a personal link signs in over HTTP as its account; a revoked one is refused; the server link then works only on this machine', async () => {
    const p = Project.open(projectDir);
    const token = addAccount(p.db, 'Eli', 'annotator');
    p.close();
    const lan = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const server = await startServer({ service, rendererDir: RENDERER, port: 0, host: lan ? '0.0.0.0' : '127.0.0.1' });
    try {
      const me = await apiCall(server.port, token, 'team.me', {});
      expect(JSON.parse(me.body)).toMatchObject({ ok: true, value: { name: 'Eli', role: 'annotator', account: true } });
      const labelled = JSON.parse((await apiCall(server.port, token, 'labels.set', { imageId: ids[5], className: 'nev' })).body) as Envelope<ImageDetail>;
      expect(labelled.ok && labelled.value.history[0]!.author).toBe('Eli');
      expect(JSON.parse((await apiCall(server.port, token, 'team.users', {})).body)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      // Signing in with the personal link sets the image cookie with that token.
      const page = await signInSession(server.port, token);
      expect(String(page.headers['set-cookie'])).toContain(`dermfuse_token=${token}`);
      const thumb = await rawRequest(server.port, {
        path: `/media/thumb/${ids[5]}`,
        headers: { host: `127.0.0.1:${server.port}`, cookie: `dermfuse_token=${token}` },
      });
      expect(thumb.status).toBe(200);
      // The server's own link from this machine still acts as the owner.
      expect(JSON.parse((await apiCall(server.port, server.token, 'team.me', {})).body)).toMatchObject({ value: { role: 'admin', account: false } });
      if (lan) {
        const remote = (t: string) =>
          rawRequest(server.port, {
            host: lan,
            method: 'POST',
            path: '/api/team.me',
            headers: { host: `${lan}:${server.port}`, authorization: `Bearer ${t}`, 'content-type': 'application/json' },
            body: '{}',
          });
        expect((await remote(server.token)).status).toBe(403);
        expect((await remote(token)).status).toBe(200);
      }
      await call(root, 'team.revokeUser', { name: 'eli' });
      expect((await apiCall(server.port, token, 'team.me', {})).status).toBe(401);
      expect(
        (await rawRequest(server.port, { path: `/media/thumb/${ids[5]}`, headers: { host: `127.0.0.1:${server.port}`, cookie: `dermfuse_token=${token}` } }))
          .status,
      ).toBe(401);
    } finally {
      await server.close();
    }
  });
});
