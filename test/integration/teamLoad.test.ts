import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/main/project.ts';
import { addAccount } from '../../src/main/team/accounts.ts';
import { createTask } from '../../src/main/team/tasks.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { annotate, type Ack } from '../fixtures/teamLoad.ts';
import { serveProcess } from '../fixtures/serveProcess.ts';

const tmp = tempDir();
const dir = path.join(tmp.dir, 'p');
const IMAGES = 60;
const PER_IMAGE = 3;
let people: { name: string; token: string }[];
let taskId: number;

beforeAll(async () => {
  const fakes = await makeImages(path.join(tmp.dir, 'images'), IMAGES, 10, 24);
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes));
  await importedProject(dir, path.join(tmp.dir, 'images'), path.join(tmp.dir, 'm.csv'));
  const p = Project.open(dir);
  people = Array.from({ length: 20 }, (_, i) => ({ name: `reader${i + 1}`, token: addAccount(p.db, `reader${i + 1}`, 'annotator') }));
  taskId = createTask(p, { name: 'load', filter: {}, perImage: PER_IMAGE, blind: true }, { name: 'admin', role: 'admin', account: false }).id;
  p.close();
}, 120_000);
afterAll(() => tmp.cleanup());

function stored(): { author: string; image_id: number; name: string }[] {
  const p = Project.open(dir);
  try {
    return p.db.prepare(`SELECT a.author, a.image_id, c.name FROM annotations a JOIN classes c ON c.id = a.class_id WHERE a.source = 'user'`).all() as {
      author: string;
      image_id: number;
      name: string;
    }[];
  } finally {
    p.close();
  }
}
const key = (a: { author: string; imageId: number; className: string }) => `${a.author}|${a.imageId}|${a.className}`;

describe('20 annotators on one served project', () => {
  it('loses no acknowledged label when the server is killed -9 mid-run, and a restarted server completes the task without duplicates', async () => {
    const first = await serveProcess(dir);
    await expect
      .poll(() => first.stderr())
      .toContain(
        "20 account(s) sign in with their personal links (dermfuse users list); the link below acts as the project's owner and works only on this machine.",
      );
    // Sign-in links printed later (users add without --url) name the address the project was served at.
    const p = Project.open(dir);
    expect(p.db.prepare(`SELECT value FROM settings WHERE key = 'team.serverAddress'`).pluck().get()).toBe(`http://127.0.0.1:${first.port}`);
    p.close();
    let killed = false;
    const run = annotate(first.port, people, taskId, ['mel', 'nev'], {});
    // Kill the server while labels are in flight.
    const poll = setInterval(() => {
      if (!killed && stored().length >= 40) {
        killed = true;
        void first.kill9();
      }
    }, 20);
    const before = await run;
    clearInterval(poll);
    expect(killed).toBe(true);
    expect(before.failed).toBeGreaterThan(0);
    const afterCrash = new Set(stored().map((r) => key({ author: r.author, imageId: r.image_id, className: r.name })));
    const lost = before.acked.filter((a) => !afterCrash.has(key(a)));
    expect(lost).toEqual([]);

    // The project opens cleanly and the team carries on where it stopped.
    const second = await serveProcess(dir);
    try {
      const after = await annotate(second.port, people, taskId, ['mel', 'nev'], {});
      expect(after.failed).toBe(0);
      const all: Ack[] = [...before.acked, ...after.acked];
      const rows = stored();
      const written = new Set(rows.map((r) => key({ author: r.author, imageId: r.image_id, className: r.name })));
      expect(all.filter((a) => !written.has(key(a)))).toEqual([]);
      // One annotation per person and image: the queue never hands an image back to who labelled it.
      const perPersonImage = new Map<string, number>();
      for (const r of rows) perPersonImage.set(`${r.author}|${r.image_id}`, (perPersonImage.get(`${r.author}|${r.image_id}`) ?? 0) + 1);
      expect([...perPersonImage.values()].filter((n) => n > 1)).toEqual([]);
      // Every image has its labels.
      const perImage = new Map<number, number>();
      for (const r of rows) perImage.set(r.image_id, (perImage.get(r.image_id) ?? 0) + 1);
      expect(perImage.size).toBe(IMAGES);
      expect(Math.min(...perImage.values())).toBeGreaterThanOrEqual(PER_IMAGE);
    } finally {
      await second.stop();
    }
  }, 180_000);
});
