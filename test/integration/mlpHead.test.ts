import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangePreprocessing } from '../../src/main/ml/input/spec.ts';
import { FeatureStore } from '../../src/main/db/repos/featureStore.ts';
import { trainRun, type RunResult } from '../../src/main/ml/fusion/train.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { Project } from '../../src/main/project.ts';
import { makeImages, tempDir } from '../fixtures/generate.ts';
import { importGeneric } from '../fixtures/project.ts';

// The MLP head is chosen by the inner cross-validation where a linear head cannot fit: a label that is the XOR of
// two yes/no fields (no linear model on their one-hot codes separates it), with image features that carry nothing.

const tmp = tempDir();
let project: Project;
let run: RunResult;

beforeAll(async () => {
  const n = 240;
  const fakes = await makeImages(path.join(tmp.dir, 'images'), n, 4, 24);
  const r = rngFrom(11);
  const lines = ['image_id,dx,patient_id,lesion_id,smoker,itches'];
  fakes.forEach((f) => {
    const a = r() < 0.5;
    const b = r() < 0.5;
    const label = (a !== b) !== r() < 0.05 ? 'MEL' : 'NEV';
    lines.push(`${f.id},${label},${f.patient},${f.lesion},${a ? 'yes' : 'no'},${b ? 'yes' : 'no'}`);
  });
  fs.writeFileSync(path.join(tmp.dir, 'meta.csv'), lines.join('\n') + '\n');
  project = Project.create(path.join(tmp.dir, 'p')).project;
  await importGeneric(project, path.join(tmp.dir, 'images'), path.join(tmp.dir, 'meta.csv'), 'dx');
  const store = new FeatureStore(project.db);
  store.registerBackbone(
    'noise',
    { name: 'noise', dir: '-', format: 'layers', featureLayer: null, preprocessing: rangePreprocessing(24, -1, 1), tta: false },
    16,
  );
  const shas = project.db.prepare('SELECT sha256 FROM images').pluck().all() as string[];
  store.put(
    'noise',
    shas.map((sha256) => ({ sha256, vector: Float32Array.from({ length: 16 }, () => r() - 0.5) })),
  );
  run = await trainRun(project, { label: 'dx', positive: ['MEL'], fields: ['smoker', 'itches'], group: 'patient', folds: 3, backbone: 'noise', seed: 1 });
}, 240_000);
afterAll(() => {
  project.close();
  tmp.cleanup();
});

describe('MLP head', () => {
  it('is chosen for the metadata where only an interaction separates the classes, and fits it', () => {
    expect(run.heads).toMatch(/metadata mlp$/);
    expect(run.headsPerFold!.every((h) => h.endsWith('metadata mlp'))).toBe(true);
    expect(run.modes.metadata.auc).toBeGreaterThan(0.85);
    expect(run.modes.fused.auc).toBeGreaterThan(0.85);
    expect(run.modes.image.auc).toBeLessThan(0.7);
    // The inner CV saw the linear head fail on the same rows.
    for (const s of run.innerScores) expect(s['metadata:mlp']! - s['metadata:linear']!).toBeGreaterThan(0.2);
  });
});
