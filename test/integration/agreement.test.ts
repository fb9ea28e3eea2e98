import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoOf } from '../../src/main/db/open.ts';
import { LabelsRepo } from '../../src/main/db/repos/labelsRepo.ts';
import { Project } from '../../src/main/project.ts';
import { exportLabelsLong } from '../../src/main/images/exportCsv.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import type { TrainConfig } from '../../src/main/ml/fusion/dataset.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { agreementReport } from '../../src/main/team/agreementReport.ts';
import { Editor } from '../../src/main/workbench/edits.ts';
import { makeImages, tempDir } from '../fixtures/generate.ts';
import { importGeneric } from '../fixtures/project.ts';

/** 300 items, 4 raters, 3 classes; kappas from scikit-learn and statsmodels (test/fixtures/agreement/make.py). */
const REF = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../fixtures/agreement/reference.json'), 'utf8')) as {
  labels: number[][];
  cohen: Record<string, number>;
  fleiss: number;
};

describe('agreement between annotators of a project', () => {
  const tmp = tempDir();
  let project: Project;

  beforeAll(async () => {
    const fakes = await makeImages(path.join(tmp.dir, 'images'), REF.labels.length, 3, 16);
    // Imported without labels: the four annotators label every image through the editor, as in the app.
    fs.writeFileSync(
      path.join(tmp.dir, 'meta.csv'),
      ['image_id,dx,patient_id,lesion_id,age', ...fakes.map((f) => `${f.id},,${f.patient},${f.lesion},${f.age ?? ''}`)].join('\n') + '\n',
    );
    project = Project.create(path.join(tmp.dir, 'p')).project;
    await importGeneric(project, path.join(tmp.dir, 'images'), path.join(tmp.dir, 'meta.csv'), 'dx');
    const labels = repoOf(project.db, LabelsRepo);
    const set = labels.ensureSet('dx');
    for (const c of ['c0', 'c1', 'c2']) labels.ensureClass(set.id, c);
    const editor = new Editor(project);
    const ids = project.db.prepare('SELECT id FROM images ORDER BY external_id').pluck().all() as number[];
    // Each annotator labels from an earlier wrong guess to their final answer: only the latest label per annotator counts.
    REF.labels.forEach((row, i) =>
      row.forEach((label, rater) => {
        if (i % 10 === 0) editor.setLabel(ids[i]!, `c${(label + 1) % 3}`, false, `dr${rater}`);
        editor.setLabel(ids[i]!, `c${label}`, false, `dr${rater}`);
      }),
    );
  }, 120_000);
  /** Row of REF.labels the project's first image (by id) was labelled from: images were labelled in external-id order. */
  const ids0 = () => {
    const order = project.db.prepare('SELECT id FROM images ORDER BY external_id').pluck().all() as number[];
    const first = project.db.prepare('SELECT MIN(id) FROM images').pluck().get() as number;
    return order.indexOf(first);
  };
  const latestSnapshot = () =>
    JSON.parse(project.db.prepare('SELECT snapshot FROM runs ORDER BY id DESC LIMIT 1').pluck().get() as string) as { classCounts: Record<string, number> };
  afterAll(() => {
    project?.close();
    tmp.cleanup();
  });

  it("reports scikit-learn's Cohen's kappa per pair and statsmodels' Fleiss' kappa from each annotator's latest labels, with intervals", () => {
    const r = agreementReport(project);
    expect(r.images).toBe(300);
    expect(r.annotators).toEqual([0, 1, 2, 3].map((i) => ({ name: `dr${i}`, images: 300 })));
    expect(r.classes).toEqual(['c0', 'c1', 'c2']);
    for (const p of r.pairs) {
      const expected = REF.cohen[`${p.a.slice(2)}-${p.b.slice(2)}`]!;
      expect(p.kappa).toBeCloseTo(expected, 4);
      expect(p.ci[0]).toBeLessThan(expected);
      expect(p.ci[1]).toBeGreaterThan(expected);
    }
    expect(r.pairs).toHaveLength(6);
    expect(r.fleissKappa!.value).toBeCloseTo(REF.fleiss, 4);
    expect(r.krippendorffAlpha!.value).toBeGreaterThan(r.fleissKappa!.value - 0.01);
    // The planted accuracies fall rater by rater (0.9 to 0.55): so does each one's agreement with the consensus.
    const acc = r.vsConsensus.map((a) => a.accuracy);
    expect([...acc].sort((a, b) => b - a)).toEqual(acc);
    // Each confusion matrix holds the annotator's images; its diagonal is their agreement, its rows their sensitivity.
    for (const a of r.vsConsensus) {
      const total = a.confusion.flat().reduce((x, y) => x + y, 0);
      expect(total).toBe(a.images);
      expect(a.confusion.reduce((x, row, t) => x + row[t]!, 0) / total).toBeCloseTo(a.accuracy, 3);
      a.confusion.forEach((row, t) => {
        const n = row.reduce((x, y) => x + y, 0);
        if (n > 0) expect(row[t]! / n).toBeCloseTo(a.sensitivity[t]!, 3);
      });
    }
  });

  it('exports every annotator’s latest label in the long format, one row each', async () => {
    const out = path.join(tmp.dir, 'long.csv');
    expect(await exportLabelsLong(project, out)).toEqual({ rows: 1200, columns: ['image_id', 'annotator', 'source', 'dx', 'labelled_at'] });
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1201);
    const first = project.db.prepare('SELECT external_id FROM images ORDER BY id LIMIT 1').pluck().get() as string;
    const mine = lines.filter((l) => l.startsWith(`${first},`)).map((l) => l.split(',').slice(0, 4).join(','));
    const row = ids0();
    expect(mine).toEqual([0, 1, 2, 3].map((r) => `${first},dr${r},user,c${REF.labels[row]![r]}`));
    expect(lines[1]).toMatch(/,\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('trains on the majority or Dawid-Skene consensus when asked, and records the rule and how many labels it changed', async () => {
    await extractFeatures(project, SMALL_BUILT_IN_BACKBONE);
    const cfg: TrainConfig = { label: 'dx', positive: null, fields: ['age'], group: 'patient', folds: 3, backbone: null, seed: 1 };
    const latest = await trainRun(project, cfg);
    // The latest label of every image is dr3's (the last to label), the least accurate annotator.
    expect(latest.consensus).toEqual({ rule: 'latest', differing: 0 });
    const counts = (labels: number[]) => Object.fromEntries(['c0', 'c1', 'c2'].map((c, k) => [c, labels.filter((l) => l === k).length]));
    expect(latestSnapshot().classCounts).toEqual(counts(REF.labels.map((r) => r[3]!)));
    const majority = await trainRun(project, { ...cfg, consensus: 'majority' });
    // Majority of the four, a tie keeping dr3's label.
    const expected = REF.labels.map((r) => {
      const votes = [0, 1, 2].map((k) => r.filter((l) => l === k).length);
      const top = Math.max(...votes);
      return votes.filter((v) => v === top).length > 1 ? r[3]! : votes.indexOf(top);
    });
    expect(majority.consensus).toEqual({ rule: 'majority', differing: expected.filter((l, i) => l !== REF.labels[i]![3]).length });
    expect(latestSnapshot().classCounts).toEqual(counts(expected));
    const ds = await trainRun(project, { ...cfg, consensus: 'dawid-skene' });
    expect(ds.consensus!.rule).toBe('dawid-skene');
    expect(ds.consensus!.differing).toBeGreaterThan(0);
  }, 300_000);
});
