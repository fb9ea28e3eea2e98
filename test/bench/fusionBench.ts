import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FieldsRepo } from '../../src/main/db/repos/fieldsRepo.ts';
import { ImagesRepo } from '../../src/main/db/repos/imagesRepo.ts';
import { LabelsRepo } from '../../src/main/db/repos/labelsRepo.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { rangePreprocessing } from '../../src/main/ml/backboneSpec.ts';
import { extractFeatures } from '../../src/main/ml/extract.ts';
import { exportFeatures } from '../../src/main/ml/exportFeatures.ts';
import { FeatureStore } from '../../src/main/db/repos/featureStore.ts';
import { trainRun, type RunResult } from '../../src/main/ml/fusion/train.ts';
import { rngFrom } from '../../src/main/ml/random.ts';
import { Project } from '../../src/main/project.ts';
import { round } from './importBench.ts';

const CANCER = ['BCC', 'MEL', 'SCC'];

function sklearnPeer(shared: string, featuresCsv: string): Record<string, number> | { error: string } {
  const r = spawnSync(
    '/usr/bin/python3',
    [path.join(shared, 'bench/reference_fusion_sklearn.py'), featuresCsv, path.join(shared, 'data/pad-ufes-20/metadata.csv')],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return { error: `peer did not run (apt-get install -y python3-sklearn python3-pandas): ${(r.stderr || '').trim().split('\n').pop()}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

const table = (r: RunResult) => ({
  image: round(r.modes.image.auc),
  metadata: round(r.modes.metadata.auc),
  fused: round(r.modes.fused.auc),
  fusedCI: r.modes.fused.aucCI.map((x) => round(x)),
  fusion: r.fusion,
  fusedMinusImage: { difference: round(r.fusedVsImage.difference), ci: r.fusedVsImage.ci.map((x) => round(x)), p: round(r.fusedVsImage.p) },
  fusedBeatsBoth: r.fusedBeatsBoth,
  fields: r.fieldsUsed,
  seconds: round(r.seconds, 1),
  timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, round(v, 1)])),
});

/** PAD-UFES-20 cancer vs not, on both shared MobileNets, beside the scikit-learn recipe on the same features. */
export async function padTables(shared: string): Promise<object> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  const pad = path.join(shared, 'data/pad-ufes-20');
  const out: Record<string, object> = {};
  try {
    const project = Project.create(path.join(tmp, 'p')).project;
    await runImport(project, await planImport({ imagesDir: path.join(pad, 'images'), metadataPath: path.join(pad, 'metadata.csv') }, project.dir));
    for (const name of ['mobilenet_v2_0.35_224_tm', 'mobilenet_v1_0.75_224']) {
      const f = await extractFeatures(project, path.join(shared, 'models', name));
      const csv = path.join(tmp, `${name}.csv`);
      await exportFeatures(project, f.key, csv);
      const base = { label: 'diagnostic', positive: CANCER, group: 'patient' as const, folds: 5, backbone: f.key, seed: 1 };
      const arg = await trainRun(project, { ...base, fields: ['age', 'region', 'gender'] });
      const all = await trainRun(project, { ...base, fields: null });
      out[name] = { ageRegionGender: table(arg), allNonLeakingFields: table(all), sklearnPeerAgeRegionGender: sklearnPeer(shared, csv) };
    }
    project.close();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

/** A project of 10,000 images (rows only: no files are needed to train on stored features), 1280-d, 10 fields. */
function syntheticProject(dir: string, n: number, dim: number): Project {
  const project = Project.create(dir).project;
  const db = project.db;
  const r = rngFrom(11);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const images = new ImagesRepo(db);
  const fields = new FieldsRepo(db);
  const labels = new LabelsRepo(db);
  const store = new FeatureStore(db);
  store.registerBackbone(
    'bench',
    { name: 'bench', dir: '-', format: 'layers', featureLayer: null, preprocessing: rangePreprocessing(224, -1, 1), tta: false },
    dim,
  );
  db.transaction(() => {
    const set = labels.ensureSet('label');
    const cls = [labels.ensureClass(set.id, 'benign'), labels.ensureClass(set.id, 'malignant')];
    const specs = Array.from({ length: 10 }, (_, j) =>
      fields.ensure({
        name: `f${j}`,
        type: j < 6 ? 'number' : 'category',
        allowedValues: j < 6 ? null : ['a', 'b', 'c', 'd'],
        unit: null,
        min: null,
        max: null,
      }),
    );
    const feats: { sha256: string; vector: Float32Array }[] = [];
    for (let i = 0; i < n; i++) {
      const a = gauss();
      const b = gauss();
      const y = a + b + 0.5 * gauss() > 0.8 ? 1 : 0;
      const sha = i.toString(16).padStart(64, '0');
      const id = images.upsert({
        external_id: `IMG_${i}`,
        path: `/nowhere/IMG_${i}.jpg`,
        sha256: sha,
        bytes: 1,
        mtime_ms: 0,
        width: 224,
        height: 224,
        format: 'jpeg',
        thumb: null,
        status: 'ok',
        error: null,
      });
      images.link(id, `P${Math.floor(i / 2)}`, null);
      labels.annotate(id, set.id, cls[y]!, 'bench', 'import');
      specs.forEach((f, j) => {
        const v = j === 0 ? 50 + 10 * b + gauss() : j < 6 ? gauss() : ['a', 'b', 'c', 'd'][j === 6 ? (b > 0 ? 0 : 1) : Math.floor(r() * 4)]!;
        if (r() > 0.1) fields.set(id, f, v, 'bench', 'import', false);
      });
      feats.push({ sha256: sha, vector: Float32Array.from({ length: dim }, (_, j) => (j < 16 ? 0.5 * a : 0) + gauss()) });
    }
    store.put('bench', feats);
  })();
  return project;
}

/** A full run on 10,000 generated images with 1280-d features and 10 fields: seconds and peak memory. */
export async function fusionBench(): Promise<object> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  try {
    const project = syntheticProject(path.join(tmp, 'synthetic'), 10_000, 1280);
    const rssBefore = process.resourceUsage().maxRSS;
    const r = await trainRun(project, { label: 'label', positive: ['malignant'], fields: null, group: 'patient', folds: 5, backbone: 'bench', seed: 1 });
    const synthetic = {
      images: r.images,
      dim: 1280,
      fieldCount: r.fieldsUsed.length,
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 0),
      peakRssBeforeRunMiB: round(rssBefore / 1024, 0),
      backend: r.backend,
      ...table(r),
    };
    project.close();
    return { synthetic10k: synthetic };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
