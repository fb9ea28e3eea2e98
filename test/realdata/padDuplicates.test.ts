import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { Project } from '../../src/main/project.ts';
import { duplicateReport } from '../../src/main/quality/report.ts';
import { scanQuality } from '../../src/main/quality/scan.ts';
import { tempDir } from '../fixtures/generate.ts';
import { PLANT_KINDS, plantCopies, plantOutliers, type Planted } from '../fixtures/plant.ts';
import { HAS_PAD, PAD_DIR, padCancerRun } from '../fixtures/shared.ts';

describe.skipIf(!HAS_PAD)('near-duplicates and outliers on the 686 PAD-UFES-20 photos with planted copies', () => {
  const tmp = tempDir();
  let project: Project;
  let planted: Planted[];
  let outliers: string[];
  const ids = new Map<string, number>();
  const lesionOf = new Map<number, string>();

  beforeAll(async () => {
    // Seed 11: the rule was fitted on seed 7's copies; these are others, so the figures are not the fit's own.
    planted = await plantCopies(path.join(PAD_DIR, 'images'), path.join(PAD_DIR, 'metadata.csv'), tmp.dir, 140, 11);
    outliers = await plantOutliers(path.join(tmp.dir, 'images'));
    project = Project.create(path.join(tmp.dir, 'p')).project;
    await runImport(project, await planImport({ imagesDir: path.join(tmp.dir, 'images'), metadataPath: path.join(tmp.dir, 'metadata.csv') }, project.dir));
    for (const r of project.db.prepare('SELECT i.id, i.external_id, l.external_id AS lesion FROM images i LEFT JOIN lesions l ON l.id = i.lesion_id').all() as {
      id: number;
      external_id: string;
      lesion: string | null;
    }[]) {
      ids.set(r.external_id, r.id);
      lesionOf.set(r.id, r.lesion ?? `image ${r.id}`);
    }
    // A copy's true lesion is its original's.
    for (const p of planted) lesionOf.set(ids.get(p.copy)!, lesionOf.get(ids.get(p.original)!)!);
  }, 300_000);
  afterAll(() => {
    project?.close();
    tmp.cleanup();
  });

  it('finds the planted copies (recall >= 0.95 at precision >= 0.95), flags them as spanning patients, and ranks planted outliers in the top 2%', async () => {
    const summary = await scanQuality(project);
    const copies = new Set(planted.map((p) => ids.get(p.copy)!));
    const pairs = project.db.prepare('SELECT a, b FROM near_duplicates').all() as { a: number; b: number }[];
    const key = (a: number, b: number) => `${Math.min(a, b)}:${Math.max(a, b)}`;
    const found = new Set(pairs.map((p) => key(p.a, p.b)));
    const hits = planted.filter((p) => found.has(key(ids.get(p.original)!, ids.get(p.copy)!)));
    const withCopy = pairs.filter((p) => copies.has(p.a) || copies.has(p.b));
    const wrong = withCopy.filter((p) => lesionOf.get(p.a) !== lesionOf.get(p.b));
    const recall = hits.length / planted.length;
    const precision = 1 - wrong.length / Math.max(withCopy.length, 1);
    const perKind = Object.fromEntries(PLANT_KINDS.map((k) => [k, `${hits.filter((h) => h.kind === k).length}/${planted.filter((p) => p.kind === k).length}`]));
    const originalPairs = pairs.filter((p) => !copies.has(p.a) && !copies.has(p.b));
    const ranks = outliers.map(
      (o) => (project.db.prepare('SELECT outlier_rank FROM image_scores WHERE image_id = ?').pluck().get(ids.get(o)!) as number | null) ?? Infinity,
    );
    process.stdout.write(
      `PAD duplicates: recall ${recall.toFixed(3)} precision ${precision.toFixed(3)} per kind ${JSON.stringify(perKind)}; ` +
        `${originalPairs.length} pairs among the 686 originals (${originalPairs.filter((p) => lesionOf.get(p.a) === lesionOf.get(p.b)).length} of one lesion); ` +
        `outlier ranks ${ranks.join(', ')} of ${summary.images}; scan ${summary.seconds.toFixed(1)} s (pairs ${summary.pairSeconds.toFixed(2)} s)\n`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    // Each copy was uploaded under a new patient: its group is flagged as spanning patients.
    const groups = duplicateReport(project).groups;
    const groupOf = new Map(groups.flatMap((g) => g.members.map((m) => [m.id, g] as const)));
    for (const h of hits) expect(groupOf.get(ids.get(h.copy)!)?.spansPatients).toBe(true);
    expect(Math.max(...ranks)).toBeLessThanOrEqual(Math.ceil(summary.images * 0.02));
  }, 300_000);

  it('keeps each found copy in its original’s fold, and says how many pairs the folds would have split', async () => {
    const run = await trainRun(project, padCancerRun());
    expect(run.duplicates!.include).toBe('unreviewed');
    expect(run.duplicates!.merges).toBeGreaterThanOrEqual(Math.floor(planted.length * 0.95));
    // Unmerged, about four in five cross-patient pairs would land in two folds.
    expect(run.duplicates!.crossedFolds).toBeGreaterThan(run.duplicates!.merges / 2);
    const fold = new Map(
      (project.db.prepare('SELECT image_id, fold FROM run_predictions WHERE run_id = ?').all(run.runId) as { image_id: number; fold: number }[]).map((r) => [
        r.image_id,
        r.fold,
      ]),
    );
    const pairs = project.db.prepare('SELECT a, b FROM near_duplicates').all() as { a: number; b: number }[];
    const both = pairs.filter((p) => fold.has(p.a) && fold.has(p.b));
    expect(both.length).toBeGreaterThan(100);
    for (const p of both) expect(fold.get(p.a)).toBe(fold.get(p.b));
    process.stdout.write(
      `PAD duplicates in training: ${run.duplicates!.crossedFolds} near-duplicate pairs crossed folds before merging; ${run.duplicates!.merges} merges\n`,
    );
  }, 600_000);
});
