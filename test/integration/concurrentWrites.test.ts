import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import { Project } from '../../src/main/project.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { BIN } from '../fixtures/cli.ts';

/** Imports run one after the other in another process while the edits run here. */
const IMPORTS = 4;
const IMAGES_PER_IMPORT = 120;

let tmp: ReturnType<typeof tempDir>;
let projectDir: string;

function cliImport(images: string, csv: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'import', projectDir, '--images', images, '--metadata', csv, '--json'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

beforeAll(async () => {
  tmp = tempDir();
  projectDir = path.join(tmp.dir, 'project');
  const seed = path.join(tmp.dir, 'seed');
  const fakes = await makeImages(seed, 30, 3);
  fs.writeFileSync(path.join(tmp.dir, 'seed.csv'), hamCsv(fakes));
  await importedProject(projectDir, seed, path.join(tmp.dir, 'seed.csv'));
  for (let k = 0; k < IMPORTS; k++) {
    const dir = path.join(tmp.dir, `batch${k}`);
    // Distinct ids per batch: each import adds new images, so it writes in every transaction.
    const batch = (await makeImages(dir, IMAGES_PER_IMPORT, 10 + k, 96)).map((f) => {
      const id = `B${k}_${f.id}`;
      const file = path.join(dir, id + path.extname(f.file));
      fs.renameSync(f.file, file);
      return { ...f, id, file };
    });
    fs.writeFileSync(path.join(tmp.dir, `batch${k}.csv`), hamCsv(batch));
  }
});
afterAll(() => tmp.cleanup());

describe('writes from two processes at once', () => {
  it('API edits during imports in another process: no edit fails, no import fails, no acknowledged edit is lost', async () => {
    const service = new Service({}, new RecentProjects(path.join(tmp.dir, 'recent.json')));
    service.openProject(projectDir);
    const ids = (service.current()!.db.prepare('SELECT id FROM images ORDER BY id').pluck().all() as number[]).slice(0, 30);
    const classes = service.current()!.db.prepare('SELECT name FROM classes ORDER BY id').pluck().all() as string[];
    const acknowledged = new Map<number, { label: string; age: number }>();
    const failures: string[] = [];
    let edits = 0;

    let importsDone = false;
    const imports = (async () => {
      const results = [];
      for (let k = 0; k < IMPORTS; k++) results.push(await cliImport(path.join(tmp.dir, `batch${k}`), path.join(tmp.dir, `batch${k}.csv`)));
      importsDone = true;
      return results;
    })();

    while (!importsDone) {
      const imageId = ids[edits % ids.length]!;
      const label = classes[edits % classes.length]!;
      const age = 20 + (edits % 60);
      const a = await service.dispatch('labels.set', { imageId, className: label });
      const b = await service.dispatch('fields.set', { imageId, field: 'age', value: age });
      const batch = await service.dispatch('labels.setMany', { imageIds: [ids[(edits + 1) % ids.length]!, ids[(edits + 2) % ids.length]!], className: label });
      for (const r of [a, b, batch]) if (!r.ok) failures.push(`${r.error.code}: ${r.error.message}`);
      if (a.ok && b.ok && batch.ok) {
        acknowledged.set(imageId, { label, age });
        // The batch's two images now carry `label` too (later single edits overwrite them in order).
        for (const other of [ids[(edits + 1) % ids.length]!, ids[(edits + 2) % ids.length]!]) {
          const prev = acknowledged.get(other);
          acknowledged.set(other, { label, age: prev?.age ?? -1 });
        }
      }
      edits++;
      // Yield to the event loop so the child's output is read; the edits themselves are as fast as SQLite allows.
      await new Promise((r) => setImmediate(r));
    }
    const results = await imports;
    await service.close();

    process.stdout.write(
      `concurrent writes: ${edits * 3} API edits during ${IMPORTS} imports in another process, ${failures.length} failed; import exit codes ${results.map((r) => r.code).join(',')}\n`,
    );
    expect(edits).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    expect(results.map((r) => r.code)).toEqual(Array(IMPORTS).fill(0));
    expect(results.map((r) => r.stderr).join('')).not.toMatch(/database is locked|SqliteError| {4}at /);

    const p = Project.open(projectDir);
    try {
      const stored = p.db.prepare(
        `SELECT i.id, c.name AS label, (SELECT v.num FROM field_values v JOIN fields f ON f.id = v.field_id WHERE f.name = 'age' AND v.image_id = i.id) AS age
         FROM images i JOIN current_labels l ON l.image_id = i.id JOIN classes c ON c.id = l.class_id WHERE i.id = ?`,
      );
      for (const [id, want] of acknowledged) {
        const row = stored.get(id) as { label: string; age: number };
        expect(row.label).toBe(want.label);
        if (want.age >= 0) expect(row.age).toBe(want.age);
      }
      expect(p.db.prepare('SELECT COUNT(*) FROM images').pluck().get()).toBe(30 + IMAGES_PER_IMPORT * IMPORTS);
      expect(p.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      p.close();
    }
  });
});
