import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEntry } from '../../src/shared/team.ts';
import type { ImageDetail, ProjectInfo } from '../../src/shared/types.ts';
import type { Service } from '../../src/main/api/service.ts';
import { addAccount, editorKey, type Caller } from '../../src/main/team/accounts.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { servedService, type ServedService } from '../fixtures/servedService.ts';
import { runCli } from '../fixtures/cli.ts';

const tmp = tempDir();
let service: Service;
let projectDir: string;
let ids: number[];
let call: ServedService['call'];
const ana: Caller = { name: 'ana', role: 'annotator', account: true, id: 1 };
const ben: Caller = { name: 'ben', role: 'annotator', account: true, id: 2 };

beforeAll(async () => {
  ({ service, projectDir, ids, call } = await servedService(tmp.dir, 8, 3));
}, 60_000);
afterAll(async () => {
  await service?.close();
  tmp.cleanup();
});

describe('undo in a team takes back the caller’s own annotation', () => {
  it('leaves the imported label current (nothing unlabelled), also after two edits and two undos', async () => {
    const before = await call<ProjectInfo>(undefined, 'project.info', {});
    const imported = (await call<ImageDetail>(undefined, 'images.get', { id: ids[0] })).label;
    expect(imported).not.toBeNull();
    const other = ['nev', 'mel', 'bcc'].find((c) => c !== imported)!;
    await call(ana, 'labels.set', { imageId: ids[0], className: other });
    await call(ana, 'labels.set', { imageId: ids[0], className: imported });
    await call(ana, 'edits.undo', {});
    expect((await call<ImageDetail>(undefined, 'images.get', { id: ids[0] })).label).toBe(other);
    await call(ana, 'edits.undo', {});
    const after = await call<ImageDetail>(undefined, 'images.get', { id: ids[0] });
    expect(after.label).toBe(imported);
    expect(after.history.find((h) => !h.withdrawn)?.source).toBe('import');
    expect(after.history.filter((h) => h.author === 'ana').every((h) => h.withdrawn)).toBe(true);
    const now = await call<ProjectInfo>(undefined, 'project.info', {});
    expect(now.labelled).toBe(before.labelled);
    expect(now.classes).toEqual(before.classes);
  });

  it("an undo after someone else labelled leaves their label current, and one person's undo never touches another's", async () => {
    await call(ana, 'labels.set', { imageId: ids[1], className: 'mel' });
    await call(ben, 'labels.set', { imageId: ids[1], className: 'bcc' });
    await call(ana, 'edits.undo', {});
    expect((await call<ImageDetail>(undefined, 'images.get', { id: ids[1] })).label).toBe('bcc');
    await call(ben, 'edits.undo', {});
    const d = await call<ImageDetail>(undefined, 'images.get', { id: ids[1] });
    expect(d.history.find((h) => !h.withdrawn)?.source).toBe('import');
  });
});

describe('undo in a team leaves other people’s edits alone', () => {
  it("a metadata undo keeps the value someone else set since; the owner's undo in a team withdraws, too", async () => {
    await call(ana, 'fields.set', { imageId: ids[3], field: 'age', value: 50 });
    await call(ben, 'fields.set', { imageId: ids[3], field: 'age', value: 60 });
    await call(ana, 'edits.undo', {});
    expect((await call<ImageDetail>(undefined, 'images.get', { id: ids[3] })).metadata.age).toBe(60);
    addAccount(service.current()!.db, 'dana', 'annotator');
    const imported = (await call<ImageDetail>(undefined, 'images.get', { id: ids[4] })).label;
    await call(undefined, 'labels.set', { imageId: ids[4], className: imported === 'mel' ? 'nev' : 'mel' });
    await call(ben, 'labels.set', { imageId: ids[4], className: 'bcc' });
    await call(undefined, 'edits.undo', {});
    expect((await call<ImageDetail>(undefined, 'images.get', { id: ids[4] })).label).toBe('bcc');
  });

  it('a batch names each image once, however often the request repeats it', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ids[i % 3]!);
    expect(await call<{ changed: number }>(ana, 'fields.setMany', { imageIds: many, field: 'age', value: 33 })).toEqual({ changed: 3 });
    expect((await call<{ changed: number }>(ana, 'labels.setMany', { imageIds: many, className: 'bcc' })).changed).toBeLessThanOrEqual(3);
  });
});

describe('names: the owner and the accounts never share an undo history or a name', () => {
  it('refuses an account named like the owner, and the owner taking an account’s name', async () => {
    await call(undefined, 'settings.setAnnotator', { name: 'annotator' });
    expect(() => addAccount(service.current()!.db, 'Annotator', 'annotator')).toThrow(/the project owner's annotator name/);
    addAccount(service.current()!.db, 'cleo', 'annotator');
    await expect(call(undefined, 'settings.setAnnotator', { name: 'Cleo' })).rejects.toThrow(/the name of an account of this project/);
  });

  it('refuses an account under a name someone already labels under, or differing only in case beyond ASCII', async () => {
    await call(undefined, 'settings.setAnnotator', { name: 'zed' });
    await call(undefined, 'labels.set', { imageId: ids[6], className: 'nev' });
    await call(undefined, 'settings.setAnnotator', { name: 'yan' });
    expect(() => addAccount(service.current()!.db, 'ZED', 'annotator')).toThrow(/Labels in this project are recorded under "zed" already/);
    addAccount(service.current()!.db, 'Émile', 'annotator');
    expect(() => addAccount(service.current()!.db, 'émile', 'annotator')).toThrow(/exists already/);
  });

  it('keys undo histories by account id, never by a name the owner could also carry', () => {
    const owner: Caller = { name: 'ana', role: 'admin', account: false };
    expect(editorKey(owner)).not.toBe(editorKey(ana));
    expect(editorKey({ ...ana, name: 'renamed' })).toBe(editorKey(ana));
  });
});

describe('at rest and in the log', () => {
  it('creates the project folder, database, WAL and its own folders for its owner only', () => {
    if (process.platform === 'win32') return;
    const dir = path.join(tmp.dir, 'private');
    const p = Project.create(dir).project;
    try {
      p.db.prepare('CREATE TABLE IF NOT EXISTS probe (x)').run();
      const mode = (f: string) => (fs.statSync(path.join(dir, f)).mode & 0o777).toString(8);
      expect(mode('.')).toBe('700');
      expect(mode('project.sqlite')).toBe('600');
      expect(mode('project.sqlite-wal')).toBe('600');
      for (const sub of ['thumbnails', 'models', 'exports']) expect(mode(sub)).toBe('700');
    } finally {
      p.close();
    }
  });

  it('logs views and edits with who, what image and from where; not polling; only admins read it', async () => {
    await call(ben, 'images.get', { id: ids[2] }, '10.1.2.3');
    await call(ben, 'labels.set', { imageId: ids[2], className: 'nev' }, '10.1.2.3');
    await call(ben, 'team.me', {}, '10.1.2.3');
    await expect(call(ben, 'team.activity', {})).rejects.toThrow(/admin role/);
    const rows = await call<ActivityEntry[]>(undefined, 'team.activity', { who: 'BEN' });
    const ext = (await call<ImageDetail>(undefined, 'images.get', { id: ids[2] })).externalId;
    expect(rows.slice(0, 3).map((r) => [r.action, r.externalId, r.outcome, r.origin])).toEqual([
      ['team.activity', null, 'FORBIDDEN', 'this machine'],
      ['labels.set', ext, 'ok', '10.1.2.3'],
      ['images.get', ext, 'ok', '10.1.2.3'],
    ]);
    expect(rows.some((r) => r.action === 'team.me')).toBe(false);
  });

  it('dermfuse audit prints the log, filtered by person and time, as text and JSON', async () => {
    await service.close();
    const json = await runCli(['audit', projectDir, '--who', 'ben', '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as ActivityEntry[];
    expect(rows.map((r) => r.action)).toContain('labels.set');
    const text = await runCli(['audit', projectDir, '--since', '2999-01-01']);
    expect(text.stdout).toMatch(/Nothing in the access log/);
    const bad = await runCli(['audit', projectDir, '--since', 'yesterday-ish']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.split('\n')[0]).toMatch(/^dermfuse audit: --since takes a date or time/);
    expect(bad.stderr).not.toMatch(/ {4}at /);
  });
});
