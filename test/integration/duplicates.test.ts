import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoOf } from '../../src/main/db/open.ts';
import { QualityRepo } from '../../src/main/db/repos/qualityRepo.ts';
import type { TrainConfig } from '../../src/main/ml/fusion/dataset.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { Project } from '../../src/main/project.ts';
import { duplicateReport, reviewGroup } from '../../src/main/quality/report.ts';
import { scanQuality } from '../../src/main/quality/scan.ts';
import { labelNextInfo, refreshAfterRun } from '../../src/main/quality/labelQueue.ts';
import { Editor } from '../../src/main/workbench/edits.ts';
import { listImages } from '../../src/main/workbench/browse.ts';
import { tempDir } from '../fixtures/generate.ts';
import { copiesDataset, makeBlobImages, PROJECT_COPIES } from '../fixtures/plant.ts';
import { importGeneric } from '../fixtures/project.ts';

const N = 48;
const COPIES = PROJECT_COPIES;

describe('near-duplicate scan, review and merged folds', () => {
  const tmp = tempDir();
  let project: Project;
  const id = (stem: string) => project.db.prepare('SELECT id FROM images WHERE external_id = ?').pluck().get(stem) as number;

  beforeAll(async () => {
    const { images, csv } = await copiesDataset(tmp.dir, N);
    project = Project.create(path.join(tmp.dir, 'p')).project;
    await importGeneric(project, images, csv, 'dx');
  }, 120_000);
  afterAll(() => {
    project?.close();
    tmp.cleanup();
  });

  it('finds exactly the planted copies, flags them as spanning patients, and hashes only new images next time', async () => {
    const s = await scanQuality(project);
    expect(s).toMatchObject({ images: N + COPIES.length, hashed: N + COPIES.length, withoutFeatures: 0, failures: [] });
    expect(s.featureKey).toMatch(/^mobilenet_v2_0\.35_224-/);
    const report = duplicateReport(project);
    const found = report.groups.map((g) => g.members.map((m) => m.externalId).sort());
    expect(found.sort()).toEqual(COPIES.map((c, j) => [`COPY_${j}`, `IMG_${String(c.of).padStart(5, '0')}`].sort()).sort());
    expect(report.groups.every((g) => g.spansPatients && g.spansLesions && !g.labelsDisagree && g.status === 'unreviewed')).toBe(true);
    expect(report.scan).toMatchObject({ pairs: 4, groups: 4, crossPatientGroups: 4 });
    // After another import, only the new images are hashed (and embedded).
    const more = path.join(tmp.dir, 'more');
    const stems = await makeBlobImages(more, 2, 99);
    fs.writeFileSync(
      path.join(tmp.dir, 'more.csv'),
      ['image_id,dx,patient_id,lesion_id,age', ...stems.map((s, i) => `NEW_${s},nev,R${i},K${i},50`)].join('\n') + '\n',
    );
    for (const s of stems) fs.renameSync(path.join(more, `${s}.jpg`), path.join(more, `NEW_${s}.jpg`));
    await importGeneric(project, more, path.join(tmp.dir, 'more.csv'), 'dx');
    const again = await scanQuality(project);
    expect(again).toMatchObject({ images: N + COPIES.length + 2, hashed: 2, pairs: 4 });
  }, 120_000);

  it('stores confirm and dismiss with who and when; the latest decision holds; a cancelled scan keeps the last results', async () => {
    const [g0, g1, g2] = duplicateReport(project).groups;
    expect(
      reviewGroup(
        project,
        g0!.members.map((m) => m.id),
        'same',
        'dr. a',
      ),
    ).toEqual({ pairs: 1 });
    expect(
      reviewGroup(
        project,
        g1!.members.map((m) => m.id),
        'different',
        'dr. b',
      ),
    ).toEqual({ pairs: 1 });
    // Dismissed, then confirmed after all: the later decision counts.
    reviewGroup(
      project,
      g2!.members.map((m) => m.id),
      'different',
      'dr. a',
    );
    reviewGroup(
      project,
      g2!.members.map((m) => m.id),
      'same',
      'dr. b',
    );
    expect(() => reviewGroup(project, [id('IMG_00010'), id('IMG_00011')], 'same', 'dr. a')).toThrow(/No near-duplicate pairs/);
    const report = duplicateReport(project);
    expect(report.dismissedPairs).toBe(1);
    // The dismissed pair is listed last, as its own group, so the decision can be taken back.
    expect(report.groups.map((g) => g.status)).toEqual(['confirmed', 'confirmed', 'unreviewed', 'dismissed']);
    expect(report.groups[3]!.id).toBe(g1!.id);
    const byId = new Map(report.groups.map((g) => [g.id, g]));
    expect(byId.get(g0!.id)!.status).toBe('confirmed');
    expect(byId.get(g0!.id)!.pairs[0]).toMatchObject({ decision: 'same', author: 'dr. a' });
    expect(byId.get(g2!.id)!.pairs[0]).toMatchObject({ decision: 'same', author: 'dr. b' });
    expect(repoOf(project.db, QualityRepo).reviews()).toHaveLength(3);

    const c = new AbortController();
    c.abort();
    await expect(scanQuality(project, { signal: c.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(duplicateReport(project).groups).toHaveLength(4);
  }, 120_000);

  it('merges confirmed (and by default unreviewed) pairs for the folds, never dismissed ones', async () => {
    const cfg: TrainConfig = { label: 'dx', positive: null, fields: ['age'], group: 'patient', folds: 3, backbone: null, seed: 1 };
    const all = await trainRun(project, cfg);
    // Two confirmed, one unreviewed; the dismissed pair stays apart.
    expect(all.duplicates).toMatchObject({ include: 'unreviewed', pairs: 3, merges: 3 });
    const confirmed = await trainRun(project, { ...cfg, duplicates: 'confirmed' });
    expect(confirmed.duplicates).toMatchObject({ include: 'confirmed', pairs: 2, merges: 2 });
    const none = await trainRun(project, { ...cfg, duplicates: 'none' });
    expect(none.duplicates).toMatchObject({ pairs: 0, merges: 0 });
    const fold = new Map(
      (project.db.prepare('SELECT image_id, fold FROM run_predictions WHERE run_id = ?').all(all.runId) as { image_id: number; fold: number }[]).map((r) => [
        r.image_id,
        r.fold,
      ]),
    );
    for (const g of duplicateReport(project).groups.filter((x) => x.status !== 'dismissed')) expect(new Set(g.members.map((m) => fold.get(m.id))).size).toBe(1);
    expect(all.groups).toBe(N + COPIES.length + 2 - 3);
  }, 300_000);

  it('orders the unlabelled images for labelling after a run: the browser sorts by it and says where it came from', async () => {
    const cleared = ['IMG_00020', 'IMG_00021', 'IMG_00022', 'IMG_00023', 'IMG_00024', 'IMG_00025'].map(id);
    new Editor(project).setLabels(cleared, null, false, 'dr. a');
    const run = await trainRun(project, { label: 'dx', positive: null, fields: ['age'], group: 'patient', folds: 3, backbone: null, seed: 1 });
    // What the train job and `dermfuse train` do when a run finishes.
    refreshAfterRun(project, run.runId);
    expect(labelNextInfo(project)).toMatchObject({ source: `run ${run.runId}`, strategy: 'uncertainty', images: 6 });
    const ranks = project.db.prepare('SELECT image_id, label_next FROM image_scores WHERE label_next IS NOT NULL ORDER BY label_next').all() as {
      image_id: number;
      label_next: number;
    }[];
    expect(ranks.map((r) => r.label_next)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ranks.map((r) => r.image_id).sort((a, b) => a - b)).toEqual([...cleared].sort((a, b) => a - b));
    const page = listImages(project, { label: null, sort: { by: 'labelNext', desc: false }, offset: 0, limit: 10 });
    expect(page.items.map((i) => i.id)).toEqual(ranks.map((r) => r.image_id));
  }, 120_000);
});
