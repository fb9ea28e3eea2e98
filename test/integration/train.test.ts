import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelsRepo } from '../../src/main/db/repos/labelsRepo.ts';
import { runList, runReport } from '../../src/main/ml/fusion/runs.ts';
import { trainRun, type RunResult } from '../../src/main/ml/fusion/train.ts';
import type { Project } from '../../src/main/project.ts';
import { FEATURE_KEY, fusionProject } from '../fixtures/fusionData.ts';
import { tempDir } from '../fixtures/generate.ts';
import path from 'node:path';
import { FeatureStore } from '../../src/main/db/repos/featureStore.ts';
import { rangePreprocessing } from '../../src/main/ml/input/spec.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { predictWithRun } from '../../src/main/ml/fusion/runPredict.ts';
import { exportBundle } from '../../src/main/ml/bundle/exportBundle.ts';

const tmp = tempDir();
let project: Project;
let run: RunResult;
const config = { label: 'diagnosis_label', positive: ['MEL'], fields: null, group: 'patient' as const, folds: 4, backbone: FEATURE_KEY, seed: 3 };

beforeAll(async () => {
  project = await fusionProject(tmp.dir);
  run = await trainRun(project, config);
}, 120_000);
afterAll(() => {
  project.close();
  tmp.cleanup();
});

describe('training runs', () => {
  it('trains image, metadata and fused models; the fused one wins when each modality holds half the signal', () => {
    expect(run).toMatchObject({ task: 'binary', folds: 4, images: 240, classes: ['not MEL', 'MEL'], fusedBeatsBoth: true });
    expect(run.modes.image.auc).toBeGreaterThan(0.6);
    expect(run.modes.metadata.auc).toBeGreaterThan(0.6);
    expect(run.modes.fused.auc).toBeGreaterThan(Math.max(run.modes.image.auc, run.modes.metadata.auc) + 0.03);
    for (const m of ['image', 'metadata', 'fused'] as const) {
      const { auc, aucCI } = run.modes[m];
      expect(aucCI[0]).toBeLessThanOrEqual(auc);
      expect(aucCI[1]).toBeGreaterThanOrEqual(auc);
    }
    expect(run.fusedVsImage.difference).toBeGreaterThan(0);
    expect(run.fusedVsImage.p).toBeLessThan(0.05);
  });

  it('uses every non-text field by default and says what it left out', () => {
    expect(run.fieldsUsed).toEqual(['age', 'site']);
    expect(run.fieldsExcluded).toEqual([{ field: 'note', reason: 'free text' }]);
  });

  it('stores out-of-fold predictions of every image and mode, with no patient in two folds', () => {
    const preds = project.db
      .prepare('SELECT p.fold, p.image, p.fused, i.patient_id FROM run_predictions p JOIN images i ON i.id = p.image_id WHERE run_id = ?')
      .all(run.runId) as { fold: number; image: string; fused: string; patient_id: number }[];
    expect(preds).toHaveLength(240);
    const foldOf = new Map<number, number>();
    for (const p of preds) {
      expect(foldOf.get(p.patient_id) ?? p.fold).toBe(p.fold);
      foldOf.set(p.patient_id, p.fold);
      const probs = JSON.parse(p.fused) as number[];
      expect(probs[0]! + probs[1]!).toBeCloseTo(1, 5);
    }
    expect(new Set(preds.map((p) => p.fold)).size).toBe(4);
    const models = JSON.parse(project.db.prepare('SELECT models FROM run_models WHERE run_id = ?').pluck().get(run.runId) as string);
    expect(models).toHaveProperty('encoder.columns');
    expect(models).toHaveProperty('pca.k');
  });

  it('is reproducible: the same seed gives the same metrics (before the relabel below changes the data)', async () => {
    // The default fields are age and site (above): the same configuration as the first run.
    const again = await trainRun(project, { ...config, fields: ['age', 'site'] });
    expect(again.modes.fused.auc).toBe(run.modes.fused.auc);
    expect(again.modes.image.aucCI).toEqual(run.modes.image.aucCI);
  });

  it('reports full metrics, lists the run, and marks it stale once a label of its images changes', () => {
    const report = runReport(project, run.runId);
    expect(report.result!.evaluation.modes.fused.confusion).toHaveLength(2);
    expect(report.result!.evaluation.modes.fused.sensitivityAtSpecificity).toHaveProperty('0.9');
    const listed = () => runList(project).find((r) => r.runId === run.runId)!;
    expect(listed()).toMatchObject({ status: 'done', staleImages: 0 });
    const labels = new LabelsRepo(project.db);
    const set = labels.primarySet()!;
    const { img, name } = project.db
      .prepare(
        'SELECT p.image_id AS img, c.name FROM run_predictions p JOIN current_labels l ON l.image_id = p.image_id JOIN classes c ON c.id = l.class_id WHERE p.run_id = ? LIMIT 1',
      )
      .get(run.runId) as { img: number; name: string };
    // Re-confirming the label the run trained on changes nothing; another label does.
    labels.annotate(img, set.id, labels.ensureClass(set.id, name), 'dr. b', 'user');
    expect(listed().staleImages).toBe(0);
    labels.annotate(img, set.id, labels.ensureClass(set.id, name === 'NEV' ? 'MEL' : 'NEV'), 'dr. b', 'user');
    expect(listed().staleImages).toBeGreaterThan(0);
  });

  it('refuses an unknown label set, field or class with a message naming them', async () => {
    await expect(trainRun(project, { ...config, label: 'nope' })).rejects.toThrow(
      /--label nope: no such label set\. Label sets of this project: diagnosis_label/,
    );
    await expect(trainRun(project, { ...config, fields: ['agee'] })).rejects.toThrow(/no such metadata field: agee/);
    await expect(trainRun(project, { ...config, positive: ['XYZ'] })).rejects.toThrow(/--positive names classes with no labelled images: XYZ/);
  });

  it('stops on cancel and records the run as cancelled', async () => {
    const controller = new AbortController();
    await expect(trainRun(project, config, { signal: controller.signal, onProgress: (p) => p.done >= 3 && controller.abort() })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(runList(project)[0]).toMatchObject({ status: 'cancelled' });
  });
});

describe('several backbones in one run', () => {
  it('concatenates the feature sets, each reduced by its own PCA at the same scale, and records both', async () => {
    // A second "backbone" of pure noise a thousand times larger than the first: reduced apart and rescaled, it
    // cannot drown the first block's signal.
    const store = new FeatureStore(project.db);
    store.registerBackbone(
      'loud-noise',
      { name: 'loud', dir: '-', format: 'layers', featureLayer: null, preprocessing: rangePreprocessing(24, -1, 1), tta: false },
      40,
    );
    const r = rngFrom(99);
    const shas = project.db.prepare('SELECT sha256 FROM images').pluck().all() as string[];
    store.put(
      'loud-noise',
      shas.map((sha256) => ({ sha256, vector: Float32Array.from({ length: 40 }, () => 1000 * (r() - 0.5)) })),
    );
    const both = await trainRun(project, { ...config, fields: ['age'], backbone: `${FEATURE_KEY},loud` });
    expect(both.backbone).toBe(`${FEATURE_KEY}+loud-noise`);
    const one = await trainRun(project, { ...config, fields: ['age'] });
    expect(Math.abs(both.modes.image.auc - one.modes.image.auc)).toBeLessThan(0.05);
    expect(both.modes.image.auc).toBeGreaterThan(0.6);
    const p = predictWithRun(project, both.runId, 'fused');
    expect(p.imageIds.length).toBe(both.images);
    // These feature sets were written without model files: a bundle, which carries every backbone, cannot be made.
    await expect(exportBundle(project, both.runId, 'fused', path.join(tmp.dir, 'two'))).rejects.toThrow(
      new RegExp(`The backbone of run ${both.runId} \\(.+\\) is not on disk any more`),
    );
    expect(fs.existsSync(path.join(tmp.dir, 'two'))).toBe(false);
    await expect(trainRun(project, { ...config, backbone: `${FEATURE_KEY},${FEATURE_KEY}` })).rejects.toThrow(/names the same features twice/);
  }, 240_000);
});
