import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FieldsRepo } from '../../src/main/db/repos/fieldsRepo.ts';
import { exportCsv } from '../../src/main/images/exportCsv.ts';
import { planImport, type ImportRequest } from '../../src/main/images/importPlan.ts';
import { runImport, type ImportOptions } from '../../src/main/images/importRun.ts';
import { projectInfo } from '../../src/main/images/info.ts';
import { relinkImages } from '../../src/main/images/relink.ts';
import { Project } from '../../src/main/project.ts';
import { projectSchema } from '../../src/main/images/importMatch.ts';
import { repoOf } from '../../src/main/db/open.ts';
import { hamCsv, makeImages, tempDir, type FakeImage } from '../fixtures/generate.ts';

let tmp: ReturnType<typeof tempDir>;
let imagesDir: string;
let csvPath: string;
let project: Project;
let fakes: FakeImage[];

async function importAll(req: Partial<ImportRequest> = {}, opts: ImportOptions = {}) {
  const plan = await planImport({ imagesDir, metadataPath: csvPath, ...req }, project.dir);
  return runImport(project, plan, opts);
}

beforeEach(async () => {
  tmp = tempDir();
  imagesDir = path.join(tmp.dir, 'images');
  fakes = await makeImages(imagesDir, 24);
  csvPath = path.join(tmp.dir, 'HAM10000_metadata.csv');
  fs.writeFileSync(csvPath, hamCsv(fakes, 3));
  project = Project.create(path.join(tmp.dir, 'proj')).project;
});

afterEach(() => {
  project.close();
  tmp.cleanup();
});

describe('import', () => {
  it('imports every image with metadata, label, lesion and thumbnail, and counts rows without images', async () => {
    const s = await importAll();
    expect(s).toMatchObject({ imagesAdded: 24, imagesFailed: 0, rowsMatched: 24, rowsWithoutImage: 3, imagesWithoutRow: 0, preset: 'ham10000', label: 'dx' });
    const expected: Record<string, number> = {};
    for (const f of fakes) expected[f.label.toLowerCase()] = (expected[f.label.toLowerCase()] ?? 0) + 1;
    expect(s.classes).toEqual(expected);
    expect(s.fields).toEqual(
      expect.arrayContaining([
        { name: 'age', type: 'number' },
        { name: 'sex', type: 'category' },
      ]),
    );
    const rows = project.db.prepare('SELECT * FROM images').all() as { thumb: string; sha256: string; width: number; format: string }[];
    for (const r of rows) {
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(r.width).toBe(64);
      expect(fs.existsSync(path.join(project.dir, r.thumb))).toBe(true);
    }
    expect(new Set(rows.map((r) => r.format))).toEqual(new Set(['jpeg', 'png', 'webp']));
    const info = projectInfo(project);
    expect(info).toMatchObject({ images: 24, labelled: 24, lesions: new Set(fakes.map((f) => f.lesion)).size });
    const age = new FieldsRepo(project.db).get('age')!;
    const img = project.db.prepare('SELECT id FROM images WHERE external_id = ?').get(fakes[0]!.id) as { id: number };
    expect(new FieldsRepo(project.db).value(img.id, age)?.value ?? null).toBe(fakes[0]!.age);
  });

  it('records a corrupt, an empty and a non-image file as errors for that file and carries on', async () => {
    fs.writeFileSync(path.join(imagesDir, 'BROKEN.jpg'), Buffer.from('not a jpeg at all'));
    fs.writeFileSync(path.join(imagesDir, 'EMPTY.png'), Buffer.alloc(0));
    const good = fs.readFileSync(fakes[1]!.file);
    fs.writeFileSync(path.join(imagesDir, 'TRUNCATED.webp'), good.subarray(0, 40));
    const s = await importAll();
    expect(s.imagesAdded).toBe(24);
    expect(s.imagesFailed).toBe(3);
    expect(s.imagesWithoutRow).toBe(3);
    for (const name of ['BROKEN.jpg', 'EMPTY.png', 'TRUNCATED.webp']) {
      expect(s.errors.some((e) => e.source.endsWith(name) && /cannot read image/.test(e.message))).toBe(true);
    }
    expect(projectInfo(project)).toMatchObject({ images: 24, imagesFailed: 3 });
  });

  it('refuses images above the pixel limit (decompression bombs) as a per-file error', async () => {
    const s = await importAll({}, { maxPixels: 32 * 32 });
    expect(s.imagesFailed).toBe(24);
    expect(s.errors.filter((e) => /limit|pixel/i.test(e.message))).toHaveLength(24);
  });

  it('is idempotent: a second import adds nothing and writes no new annotations', async () => {
    await importAll();
    const annotations = () => (project.db.prepare('SELECT COUNT(*) AS n FROM annotations').get() as { n: number }).n;
    const before = annotations();
    const s = await importAll();
    expect(s).toMatchObject({ imagesAdded: 0, imagesUpdated: 0, imagesUnchanged: 24 });
    expect(annotations()).toBe(before);
    expect(projectInfo(project).images).toBe(24);
  });

  it('detects a changed file by its hash and a changed CSV label, keeping the label history', async () => {
    await importAll();
    const target = fakes[3]!;
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } })
      .toFormat(path.extname(target.file).slice(1) === 'jpg' ? 'jpeg' : (path.extname(target.file).slice(1) as 'png' | 'webp'))
      .toFile(target.file);
    const newLabel = target.label === 'MEL' ? 'bcc' : 'mel';
    fs.writeFileSync(csvPath, hamCsv(fakes, 3).replace(`${target.id},${target.label.toLowerCase()}`, `${target.id},${newLabel}`));
    const s = await importAll();
    expect(s.imagesUpdated).toBe(1);
    const row = project.db.prepare('SELECT id, width, height FROM images WHERE external_id = ?').get(target.id) as {
      id: number;
      width: number;
      height: number;
    };
    expect([row.width, row.height]).toEqual([40, 30]);
    const history = project.db.prepare('SELECT c.name FROM annotations a JOIN classes c ON c.id = a.class_id WHERE image_id = ? ORDER BY a.id').all(row.id) as {
      name: string;
    }[];
    expect(history.map((h) => h.name)).toEqual([target.label.toLowerCase(), newLabel]);
  });

  it('keeps an annotator’s label and metadata edit when the same CSV is imported again', async () => {
    await importAll();
    const img = project.db.prepare('SELECT id FROM images WHERE external_id = ?').get(fakes[0]!.id) as { id: number };
    const fields = new FieldsRepo(project.db);
    const age = fields.get('age')!;
    const set = project.db.prepare('SELECT id FROM label_sets').get() as { id: number };
    const cls = project.db.prepare('SELECT id FROM classes WHERE name = ?').get(fakes[0]!.label === 'NEV' ? 'mel' : 'nev') as { id: number };
    project.db.transaction(() => {
      fields.set(img.id, age, 99, 'dr. a', 'user', true);
      project.db
        .prepare(`INSERT INTO annotations (image_id, label_set_id, class_id, author, source, created_at) VALUES (?, ?, ?, 'dr. a', 'user', '2026-01-01')`)
        .run(img.id, set.id, cls.id);
    })();
    const s = await importAll();
    expect(s.userEditsKept).toBe(1);
    expect(fields.value(img.id, age)).toEqual({ value: 99, source: 'user' });
    const current = project.db.prepare('SELECT author FROM current_labels WHERE image_id = ?').get(img.id) as { author: string };
    expect(current.author).toBe('dr. a');
  });

  it('reports bad rows by line: duplicate ids with other values, an empty id, a value of the wrong type', async () => {
    const lines = hamCsv(fakes).trimEnd().split('\n');
    lines.push(lines[1]!.replace(',histo,', ',consensus,'));
    lines.push('L9,,nv,histo,40.0,male,back');
    lines[2] = lines[2]!.replace(/,(\d+\.0)?,(male|female),/, ',forty,$2,');
    fs.writeFileSync(csvPath, lines.join('\n'));
    const s = await importAll({}, {});
    const msgs = s.errors.map((e) => `${e.source}: ${e.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/line 26: image id IMG_00000 appears again \(first at line 2\)/),
        expect.stringMatching(/line 27: empty image id/),
      ]),
    );
    // A bad cell names its row, column and value (once: the plan found it, the run does not repeat it).
    expect(s.errors.filter((e) => e.line === 3 && e.column === 'age')).toEqual([
      expect.objectContaining({ value: 'forty', message: expect.stringMatching(/^"forty" is not a number; stored as missing/) }),
    ]);
    expect(s.imagesAdded).toBe(24);
  });

  it('puts labels into the existing label set whose classes they are, proposes existing fields for look-alike columns, and names rows without image', async () => {
    await importAll();
    // A second CSV of one's own: other column names, the same diagnoses, a short row and a row without an image.
    const own = path.join(tmp.dir, 'own.csv');
    const lines = ['image_id,diagnosis,gender,site,age'];
    fakes.slice(0, 5).forEach((f, i) => lines.push(`${f.id},${f.label.toLowerCase()},${i % 2 ? 'male' : 'female'},${f.site.toLowerCase()},${40 + i}`));
    lines.push(`${fakes[5]!.id},${fakes[5]!.label.toLowerCase()},female,70`);
    lines.push(`NOPE_1,nv,male,back,50`);
    fs.writeFileSync(own, lines.join('\n') + '\n');
    const plan = await planImport({ imagesDir, metadataPath: own, idColumn: 'image_id', labelColumn: 'diagnosis' }, project.dir, {
      schema: projectSchema(project.db),
    });
    expect(plan.labelSet).toMatchObject({ name: 'dx', isNew: false, reason: expect.stringMatching(/^every label value .* is one of its classes$/) });
    expect(plan.fieldMatches).toEqual([
      { column: 'gender', field: 'sex', reason: 'same meaning as "sex"' },
      { column: 'site', field: 'localization', reason: 'same meaning as "localization"' },
    ]);
    // The short row is named, and age stays a number: types come from the rows that fit the header.
    expect(plan.problems).toEqual(expect.arrayContaining([expect.objectContaining({ line: 7, message: expect.stringMatching(/^row has 4 cells/) })]));
    expect(plan.problems).toEqual(expect.arrayContaining([expect.objectContaining({ line: 8, column: 'image_id', value: 'NOPE_1' })]));
    expect(plan.mapping!.fields.find((f) => f.name === 'age')!.type).toBe('number');

    const mapped = await planImport(
      { imagesDir, metadataPath: own, idColumn: 'image_id', labelColumn: 'diagnosis', fieldMap: { gender: 'sex', site: 'localization' } },
      project.dir,
      { schema: projectSchema(project.db) },
    );
    const s = await runImport(project, mapped);
    expect(s.label).toBe('dx');
    expect(project.db.prepare('SELECT name FROM label_sets').pluck().all()).toEqual(['dx']);
    expect(
      repoOf(project.db, FieldsRepo)
        .list()
        .map((f) => f.name)
        .sort(),
    ).toEqual(['age', 'dx_type', 'localization', 'sex']);
  });

  it('matches labels to the existing set without case and by most values, names the classes it adds, and makes no set for empty labels', async () => {
    await importAll();
    const own = path.join(tmp.dir, 'own.csv');
    const write = (labels: string[]) =>
      fs.writeFileSync(own, ['image_id,diagnosis', ...fakes.slice(0, labels.length).map((f, i) => `${f.id},${labels[i]}`)].join('\n') + '\n');
    const plan = () =>
      planImport({ imagesDir, metadataPath: own, idColumn: 'image_id', labelColumn: 'diagnosis' }, project.dir, { schema: projectSchema(project.db) });
    // Upper case where the set has lower case, and one typo among them: still the set "dx", the typo named as a class it adds.
    write(
      fakes
        .slice(0, 4)
        .map((f) => f.label.toUpperCase())
        .concat('NVV'),
    );
    const p = await plan();
    expect(p.labelSet).toMatchObject({
      name: 'dx',
      isNew: false,
      newClasses: ['NVV'],
      reason: expect.stringMatching(/^most label values .* are its classes$/),
    });
    await runImport(project, p);
    // MEL is the class mel, not a new one beside it.
    expect(project.db.prepare(`SELECT name FROM classes ORDER BY position`).pluck().all()).toEqual(
      [...new Set(fakes.map((f) => f.label.toLowerCase()))].sort().concat('NVV'),
    );
    // A column of something else (most values are no class) goes to a new set.
    write(['histo', 'histo', 'follow_up', 'histo', 'mel']);
    expect((await plan()).labelSet).toMatchObject({ name: 'diagnosis', isNew: true });
    // Photos to label, with an empty label column: no new, empty set.
    write(['', '', '']);
    const empty = await plan();
    expect(empty.labelSet).toBeNull();
    await runImport(project, empty);
    expect(project.db.prepare('SELECT name FROM label_sets').pluck().all()).toEqual(['dx']);
  });

  it('does exactly the mapping the screen shows (no preset guess for a role left out), refuses a column in two roles, and writes nothing of a row that does not fit the header', async () => {
    await importAll();
    const before = project.db.prepare('SELECT COUNT(*) FROM annotations').pluck().get();
    // The HAM10000 preset would take dx as the label and lesion_id as the lesion; the screen made dx a field and left lesion_id out.
    const p = await planImport({ imagesDir, metadataPath: csvPath, idColumn: 'image_id', exactRoles: true, ignore: ['lesion_id'] }, project.dir, {
      schema: projectSchema(project.db),
    });
    expect(p.mapping).toMatchObject({ label: null, labelSet: null, patient: null, lesion: null });
    expect(p.mapping!.fields.map((f) => f.name)).toContain('dx');
    await runImport(project, p);
    expect(project.db.prepare('SELECT COUNT(*) FROM annotations').pluck().get()).toBe(before);
    await expect(
      planImport({ imagesDir, metadataPath: csvPath, idColumn: 'image_id', labelColumn: 'lesion_id', lesionColumn: 'lesion_id' }, project.dir),
    ).rejects.toThrow(/Column "lesion_id" cannot be both the label and the lesion id/);
    // A short row: its cells may sit under the wrong columns, so neither its label nor its values are written.
    const own = path.join(tmp.dir, 'short.csv');
    const f = fakes[0]!;
    fs.writeFileSync(own, `image_id,dx,age,sex\n${f.id},${f.label.toLowerCase() === 'nv' ? 'mel' : 'nv'},female\n`);
    const labelBefore = project.db.prepare(`SELECT class_id FROM current_labels WHERE image_id = (SELECT id FROM images WHERE external_id = ?)`).get(f.id);
    const short = await planImport({ imagesDir, metadataPath: own, idColumn: 'image_id', labelColumn: 'dx' }, project.dir, {
      schema: projectSchema(project.db),
    });
    expect(short.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ line: 2, value: f.id, message: expect.stringMatching(/its label and values are not imported/) })]),
    );
    await runImport(project, short);
    expect(project.db.prepare(`SELECT class_id FROM current_labels WHERE image_id = (SELECT id FROM images WHERE external_id = ?)`).get(f.id)).toEqual(
      labelBefore,
    );
  });

  it('reads a column into an existing category field in its spelling, and names values the field does not have', async () => {
    await importAll();
    const own = path.join(tmp.dir, 'sex.csv');
    fs.writeFileSync(own, ['image_id,gender', `${fakes[0]!.id},FEMALE`, `${fakes[1]!.id},Male`, `${fakes[2]!.id},M`].join('\n') + '\n');
    const p = await planImport({ imagesDir, metadataPath: own, idColumn: 'image_id', fieldMap: { gender: 'sex' } }, project.dir, {
      schema: projectSchema(project.db),
    });
    expect(p.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          column: 'gender',
          value: 'M',
          message: expect.stringMatching(/goes to the field "sex", which has the values female, male; this value is not among them/),
        }),
      ]),
    );
    await runImport(project, p);
    const sex = (id: string) =>
      project.db
        .prepare(
          `SELECT v.text FROM field_values v JOIN fields f ON f.id = v.field_id JOIN images i ON i.id = v.image_id WHERE f.name = 'sex' AND i.external_id = ?`,
        )
        .pluck()
        .get(id);
    expect([sex(fakes[0]!.id), sex(fakes[1]!.id), sex(fakes[2]!.id)]).toEqual(['female', 'male', 'M']);
  });

  it('flags byte-identical images that carry different labels', async () => {
    fs.copyFileSync(fakes[0]!.file, path.join(imagesDir, `COPY${path.extname(fakes[0]!.file)}`));
    const other = fakes[0]!.label === 'NEV' ? 'mel' : 'nev';
    fs.appendFileSync(csvPath, `LC,COPY,${other},histo,30.0,male,back\n`);
    const s = await importAll();
    expect(s.imagesFailed).toBe(0);
    expect(s.errors.some((e) => /byte-identical images carry different labels/.test(e.message) && e.message.includes('COPY='))).toBe(true);
  });

  it('relinks moved files by content hash', async () => {
    await importAll();
    const moved = path.join(tmp.dir, 'moved');
    fs.renameSync(imagesDir, moved);
    const r = await relinkImages(project, moved);
    expect(r).toEqual({ missing: 24, relinked: 24, stillMissing: [] });
    const paths = (project.db.prepare('SELECT path FROM images').all() as { path: string }[]).map((p) => p.path);
    expect(paths.every((p) => p.startsWith(moved))).toBe(true);
  });

  it('round-trips labels and metadata through export-csv into a new project', async () => {
    await importAll();
    const out = path.join(tmp.dir, 'export.csv');
    const r = await exportCsv(project, out);
    expect(r.rows).toBe(24);
    const second = Project.create(path.join(tmp.dir, 'proj2')).project;
    try {
      const plan = await planImport(
        { imagesDir, metadataPath: out, preset: 'generic', idColumn: 'image_id', labelColumn: 'dx', patientColumn: 'patient_id', lesionColumn: 'lesion_id' },
        second.dir,
      );
      await runImport(second, plan);
      const a = projectInfo(project);
      const b = projectInfo(second);
      expect(b.classes).toEqual(a.classes);
      expect(b.lesions).toBe(a.lesions);
      expect(b.fields.map((f) => [f.name, f.type])).toEqual(a.fields.map((f) => [f.name, f.type]));
      const out2 = path.join(tmp.dir, 'export2.csv');
      await exportCsv(second, out2);
      expect(fs.readFileSync(out2, 'utf8')).toBe(fs.readFileSync(out, 'utf8'));
    } finally {
      second.close();
    }
  });

  it('stops on cancel, keeps what was done, and a second import completes the rest', async () => {
    const controller = new AbortController();
    let seen = 0;
    await expect(
      importAll(
        {},
        {
          concurrency: 1,
          progressIntervalMs: 0,
          signal: controller.signal,
          onProgress: (p) => {
            seen = p.done;
            if (p.done >= 5) controller.abort();
          },
        },
      ),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen).toBeGreaterThanOrEqual(5);
    const partial = projectInfo(project).images;
    expect(partial).toBeGreaterThanOrEqual(5);
    expect(partial).toBeLessThan(24);
    const s = await importAll();
    expect(s.imagesAdded).toBe(24 - partial);
    expect(projectInfo(project).images).toBe(24);
  });
});

describe('image orientation', () => {
  it('applies EXIF orientation to the recorded size and the thumbnail', async () => {
    const t = tempDir();
    try {
      const dir = path.join(t.dir, 'img');
      fs.mkdirSync(dir);
      // Stored 80x40 landscape, EXIF orientation 6: displayed as 40x80 portrait.
      await sharp({ create: { width: 80, height: 40, channels: 3, background: '#aa5500' } })
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toFile(path.join(dir, 'ROT.jpg'));
      const p = Project.create(path.join(t.dir, 'p')).project;
      const s = await runImport(p, await planImport({ imagesDir: dir }, p.dir));
      expect(s.imagesAdded).toBe(1);
      const row = p.db.prepare('SELECT width, height, thumb FROM images').get() as { width: number; height: number; thumb: string };
      expect([row.width, row.height]).toEqual([40, 80]);
      const thumb = await sharp(path.join(p.dir, row.thumb)).metadata();
      expect([thumb.width, thumb.height]).toEqual([40, 80]);
      p.close();
    } finally {
      t.cleanup();
    }
  });
});
