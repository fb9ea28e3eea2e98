import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browseFacets, listImages } from '../../src/main/workbench/browse.ts';
import { Editor } from '../../src/main/workbench/edits.ts';
import { labelSetInfo, saveLabelSet, targetClasses } from '../../src/main/workbench/labelSets.ts';
import { FieldsRepo } from '../../src/main/db/repos/fieldsRepo.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { Project } from '../../src/main/project.ts';
import type { FieldFilter } from '../../src/shared/types.ts';
import { hamCsv, makeImages, tempDir, type FakeImage } from '../fixtures/generate.ts';

let tmp: ReturnType<typeof tempDir>;
let project: Project;
let fakes: FakeImage[];

beforeAll(async () => {
  tmp = tempDir();
  const images = path.join(tmp.dir, 'images');
  fakes = await makeImages(images, 40, 7, 32);
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes.slice(0, 36)));
  project = Project.create(path.join(tmp.dir, 'p')).project;
  await runImport(project, await planImport({ imagesDir: images, metadataPath: path.join(tmp.dir, 'm.csv') }, project.dir));
});
afterAll(() => {
  project.close();
  tmp.cleanup();
});

const ids = (q: Parameters<typeof listImages>[1]) => listImages(project, q).items.map((i) => i.externalId);
const withCsv = (all: FakeImage[]) => all.slice(0, 36);

describe('grid query', () => {
  it('filters by a numeric range, by category values and by missing, exactly as the metadata says', () => {
    const rows = withCsv(fakes);
    const adults = rows
      .filter((f) => f.age !== null && f.age >= 30 && f.age <= 60)
      .map((f) => f.id)
      .sort();
    expect(ids({ offset: 0, limit: 100, filters: [{ kind: 'range', field: 'age', min: 30, max: 60 }] })).toEqual(adults);
    const noAge = [...rows.filter((f) => f.age === null), ...fakes.slice(36)].map((f) => f.id).sort();
    expect(ids({ offset: 0, limit: 100, filters: [{ kind: 'missing', field: 'age' }] })).toEqual(noAge);
    const site = rows[0]!.site.toLowerCase();
    const males = rows
      .filter((f, i) => i % 2 === 1 && f.site.toLowerCase() === site)
      .map((f) => f.id)
      .sort();
    expect(
      ids({
        offset: 0,
        limit: 100,
        filters: [
          { kind: 'values', field: 'sex', values: ['male'] },
          { kind: 'values', field: 'localization', values: [site] },
        ],
      }),
    ).toEqual(males);
  });

  it('sorts by a field either way with missing values last, and pages without recounting', () => {
    const byAgeDesc = ids({ offset: 0, limit: 100, sort: { by: 'age', desc: true } });
    const ages = byAgeDesc.map((id) => fakes.find((f) => f.id === id && fakes.indexOf(f) < 36)?.age ?? null);
    const present = ages.filter((a) => a !== null) as number[];
    expect(present).toEqual([...present].sort((a, b) => b - a));
    expect(ages.slice(present.length).every((a) => a === null)).toBe(true);
    const first = listImages(project, { offset: 0, limit: 10, sort: { by: 'age', desc: true } });
    const second = listImages(project, { offset: 10, limit: 10, sort: { by: 'age', desc: true } });
    expect(first.counts?.total).toBe(40);
    expect(second.counts).toBeNull();
    expect(second.items.map((i) => i.externalId)).toEqual(byAgeDesc.slice(10, 20));
  });

  it('filters by annotator and by a list of image ids; refuses a range on a category field', () => {
    const editor = new Editor(project);
    const [a, b] = listImages(project, { offset: 0, limit: 2 }).items;
    editor.setLabel(a!.id, 'mel', false, 'Dr. Ana');
    expect(ids({ offset: 0, limit: 100, annotator: 'Dr. Ana' })).toEqual([a!.externalId]);
    expect(ids({ offset: 0, limit: 100, ids: [b!.id, a!.id] })).toEqual([a!.externalId, b!.externalId].sort());
    expect(() => listImages(project, { offset: 0, limit: 1, filters: [{ kind: 'range', field: 'sex', min: 0, max: 1 }] })).toThrow(/sex is a category field/);
    expect(browseFacets(project).annotators.find((x) => x.name === 'Dr. Ana')?.count).toBe(1);
  });

  it('offers every field in the facets with its observed values, range and missing count', () => {
    const facets = browseFacets(project);
    const age = facets.fields.find((f) => f.name === 'age')!;
    const known = fakes
      .slice(0, 36)
      .filter((f) => f.age !== null)
      .map((f) => f.age!);
    expect([age.min, age.max]).toEqual([Math.min(...known), Math.max(...known)]);
    expect(age.missing).toBe(40 - known.length);
    expect(
      facets.fields
        .find((f) => f.name === 'sex')!
        .values.map((v) => v.value)
        .sort(),
    ).toEqual(['female', 'male']);
  });
});

describe('batch edits', () => {
  it('labels many images as one edit and undoes them as one', () => {
    const editor = new Editor(project);
    const page = listImages(project, { offset: 0, limit: 6 }).items;
    const before = page.map((i) => i.label);
    const changed = editor.setLabels(
      page.map((i) => i.id),
      'nev',
      false,
      'batcher',
    );
    expect(changed).toBe(before.filter((l) => l !== 'nev').length);
    expect(listImages(project, { offset: 0, limit: 6 }).items.every((i) => i.label === 'nev')).toBe(true);
    expect(editor.undo('batcher')?.imageIds).toHaveLength(changed);
    expect(listImages(project, { offset: 0, limit: 6 }).items.map((i) => i.label)).toEqual(before);
  });

  it('writes nothing when a batch value is invalid, and sets a valid one on every image', () => {
    const editor = new Editor(project);
    project.db.prepare('UPDATE fields SET min = 0, max = 120 WHERE name = ?').run('age');
    const page = listImages(project, { offset: 0, limit: 5 }).items.map((i) => i.id);
    const fields = new FieldsRepo(project.db);
    const age = () => page.map((id) => fields.value(id, fields.get('age')!)?.value ?? null);
    const before = age();
    expect(() => editor.setFields(page, 'age', 400, 'batcher')).toThrow(/above the maximum 120/);
    expect(age()).toEqual(before);
    editor.setFields(page, 'age', '55', 'batcher');
    expect(age()).toEqual(page.map(() => 55));
    editor.undo('batcher');
    expect(age()).toEqual(before);
  });
});

describe('label-set editor', () => {
  it('saves order, colours, hotkeys, a new class and a derived target; refuses clashes and removing a used class', () => {
    const info = labelSetInfo(project);
    expect(info.classes.map((c) => [c.name, c.hotkey])).toEqual([
      ['bcc', '1'],
      ['mel', '2'],
      ['nev', '3'],
    ]);
    const edit = {
      classes: [
        { name: 'mel', color: '#e03131', hotkey: 'm' },
        { name: 'bcc', color: null, hotkey: 'b' },
        { name: 'nev', color: '#2f9e44', hotkey: 'n' },
        { name: 'scc', color: null, hotkey: 's' },
      ],
      targets: [{ name: 'malignant', classes: ['mel', 'bcc', 'scc'] }],
    };
    const saved = saveLabelSet(project, edit);
    expect(saved.classes.map((c) => `${c.name}:${c.hotkey}:${c.color}`)).toEqual(['mel:m:#e03131', 'bcc:b:null', 'nev:n:#2f9e44', 'scc:s:null']);
    expect(targetClasses(project, info.name, 'malignant')).toEqual(['mel', 'bcc', 'scc']);
    expect(listImages(project, { offset: 0, limit: 1 }).counts!.classes.map((c) => c.hotkey)).toEqual(['m', 'b', 'n', 's']);
    expect(() => saveLabelSet(project, { ...edit, classes: edit.classes.map((c) => (c.name === 'nev' ? { ...c, hotkey: 'M' } : c)) })).toThrow(
      /"mel" and "nev" both use the key "M"/,
    );
    expect(() => saveLabelSet(project, { ...edit, classes: edit.classes.map((c) => (c.name === 'nev' ? { ...c, hotkey: 'u' } : c)) })).toThrow(
      /taken by the browser/,
    );
    expect(() => saveLabelSet(project, { classes: edit.classes.filter((c) => c.name !== 'nev'), targets: [] })).toThrow(/Class "nev" labels \d+ images/);
    expect(() => saveLabelSet(project, { ...edit, targets: [{ name: 'x', classes: ['mel', 'nope'] }] })).toThrow(/Target "x": no class nope/);
    // An unused class goes; the saved set is unchanged by the refused edits.
    expect(saveLabelSet(project, { classes: edit.classes.filter((c) => c.name !== 'scc'), targets: [] }).classes.map((c) => c.name)).toEqual([
      'mel',
      'bcc',
      'nev',
    ]);
  });
});

describe('grid query cache', () => {
  it('never answers "unlabelled" with the cached "all" result, and sees an edit made since', () => {
    const all = listImages(project, { offset: 0, limit: 500 }).counts!.total;
    const unlabelled = listImages(project, { offset: 0, limit: 500, label: null });
    expect(unlabelled.counts!.total).toBeLessThan(all);
    expect(unlabelled.items.every((i) => i.label === null)).toBe(true);
    new Editor(project).setLabel(unlabelled.items[0]!.id, 'mel', false, 'cache');
    expect(listImages(project, { offset: 0, limit: 500, label: null }).counts!.total).toBe(unlabelled.counts!.total - 1);
  });
});

describe('grid index', () => {
  /** The plain SQL answer to a query: what the index must reproduce exactly, order included. */
  function reference(q: { label?: string | null; filters?: FieldFilter[]; sort: { by: string; desc: boolean }; annotator?: string }): number[] {
    const db = project.db;
    const setId = db.prepare('SELECT id FROM label_sets ORDER BY is_primary DESC, id LIMIT 1').pluck().get() as number;
    const where = [`i.status = 'ok'`];
    const params: unknown[] = [];
    if (q.label === null) where.push('l.class_id IS NULL');
    else if (q.label !== undefined) {
      where.push('c.name = ?');
      params.push(q.label);
    }
    if (q.annotator !== undefined) {
      where.push('l.author = ?');
      params.push(q.annotator);
    }
    for (const f of q.filters ?? []) {
      const fid = db.prepare('SELECT id FROM fields WHERE name = ?').pluck().get(f.field);
      if (f.kind === 'missing') {
        where.push('i.id NOT IN (SELECT image_id FROM field_values WHERE field_id = ?)');
        params.push(fid);
      } else if (f.kind === 'range') {
        where.push('i.id IN (SELECT image_id FROM field_values WHERE field_id = ? AND num BETWEEN ? AND ?)');
        params.push(fid, f.min, f.max);
      } else {
        where.push(`i.id IN (SELECT image_id FROM field_values WHERE field_id = ? AND text IN (${f.values.map(() => '?').join(',')}))`);
        params.push(fid, ...f.values);
      }
    }
    const dir = q.sort.desc ? 'DESC' : 'ASC';
    let join = '';
    let order = `i.external_id ${dir}`;
    if (q.sort.by === 'label') order = `c.name IS NULL, c.name ${dir}, i.external_id`;
    else if (q.sort.by === 'annotated') order = `l.created_at IS NULL, l.created_at ${dir}, i.external_id`;
    else if (q.sort.by !== 'id') {
      const fid = db.prepare('SELECT id, type FROM fields WHERE name = ?').get(q.sort.by) as { id: number; type: string };
      join = `LEFT JOIN field_values sv ON sv.image_id = i.id AND sv.field_id = ${fid.id}`;
      const col = fid.type === 'category' ? 'sv.text' : 'sv.num';
      order = `${col} IS NULL, ${col} ${dir}, i.external_id`;
    }
    return db
      .prepare(
        `SELECT i.id FROM images i LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ${setId} LEFT JOIN classes c ON c.id = l.class_id ${join} WHERE ${where.join(' AND ')} ORDER BY ${order}`,
      )
      .pluck()
      .all(...params) as number[];
  }

  it('answers exactly as SQL does, through edits, batch edits, undo and writes it did not see', () => {
    const r = rngFrom(17);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    const editor = new Editor(project);
    const all = () => listImages(project, { offset: 0, limit: 2000 }).items.map((i) => i.id);
    const classes = ['bcc', 'mel', 'nev'];
    const queries = () => {
      const label = pick([undefined, null, ...classes]);
      const filters: FieldFilter[] = pick([
        [],
        [{ kind: 'range', field: 'age', min: 20, max: 60 }],
        [{ kind: 'missing', field: 'age' }],
        [{ kind: 'values', field: 'sex', values: ['male'] }],
      ]);
      const sort = { by: pick(['id', 'label', 'annotated', 'age', 'sex']), desc: r() < 0.5 };
      return { label, filters, sort, annotator: r() < 0.2 ? 'prop' : undefined };
    };
    for (let step = 0; step < 60; step++) {
      const ids = all();
      const op = pick(['label', 'batch', 'field', 'undo', 'foreign']);
      if (op === 'label') editor.setLabel(pick(ids), pick([...classes, null]), r() < 0.2, 'prop');
      else if (op === 'batch')
        editor.setLabels(
          ids.filter(() => r() < 0.2),
          pick(classes),
          false,
          'prop',
        );
      else if (op === 'field')
        editor.setFields(
          ids.filter(() => r() < 0.15),
          'age',
          pick([null, 33, 71]),
          'prop',
        );
      else if (op === 'undo') editor.undo('prop');
      // A write the index was not told of (as another process, or an import, would make).
      else
        project.db
          .prepare(
            `INSERT INTO annotations (image_id, label_set_id, class_id, author, source, created_at) VALUES (?, (SELECT id FROM label_sets LIMIT 1), NULL, 'other', 'user', ?)`,
          )
          .run(pick(ids), new Date().toISOString());
      const q = queries();
      expect(
        listImages(project, { ...q, offset: 0, limit: 2000 }).items.map((i) => i.id),
        `step ${step} ${op} ${JSON.stringify(q)}`,
      ).toEqual(reference(q));
    }
  });
});
