import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/main/files/csv.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { exportBundle } from '../../src/main/ml/bundle/exportBundle.ts';
import { Project } from '../../src/main/project.ts';
import { validateBundle } from '../../src/main/validation/validateBundle.ts';
import { predictWithBundle } from '../../src/main/workflows/predict.ts';
import type { ValidationReport } from '../../src/shared/validation.ts';
import { runCli } from '../fixtures/cli.ts';
import { tempDir } from '../fixtures/generate.ts';
import { importGeneric } from '../fixtures/project.ts';
import { labelledSet, trainedRun } from '../fixtures/validationSets.ts';

const tmp = tempDir();
const model = path.join(tmp.dir, 'tiny');
const trainDir = path.join(tmp.dir, 'train');
const other = { images: path.join(tmp.dir, 'other-images'), csv: path.join(tmp.dir, 'other.csv'), project: path.join(tmp.dir, 'other') };
let runId: number;
/** dermfuse validate of the run on the external folder, with more flags. */
const onFolder = (...more: string[]) => runCli(['validate', trainDir, '--run', String(runId), '--images', other.images, '--metadata', other.csv, ...more]);

/** scikit-learn's ROC AUC of the positive probabilities, when Debian's python3-sklearn is installed; else null. */
function sklearnAuc(truth: number[], p: number[]): number | null {
  const code = 'import json,sys\nfrom sklearn.metrics import roc_auc_score\nd=json.load(sys.stdin)\nprint(repr(roc_auc_score(d[0], d[1])))';
  const r = spawnSync('/usr/bin/python3', ['-c', code], { input: JSON.stringify([truth, p]), encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout) : null;
}

beforeAll(async () => {
  const trained = await trainedRun(trainDir, model, tmp.dir);
  const project = trained.project;
  runId = trained.runId;
  await exportBundle(project, runId, 'fused', path.join(tmp.dir, 'bundle'));
  project.close();
  // The external set: other photos, its classes spelt otherwise.
  await labelledSet(other.images, other.csv, 45, 31, ['melanoma', 'nevus']);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('dermfuse validate', () => {
  let folder: ValidationReport & { id: number };

  it('validates a run on an image folder with its CSV: the three models beside the internal figures, AUC as scikit-learn computes it, stored', () => {
    const out = path.join(tmp.dir, 'rows.csv');
    const r = onFolder(
      '--id-column',
      'image_id',
      '--label-column',
      'dx',
      '--patient-column',
      'patient_id',
      '--map-class',
      'melanoma=mel,nevus=nev',
      '--out',
      out,
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    folder = JSON.parse(r.stdout);
    expect(folder).toMatchObject({ runId, images: 45, task: 'binary', features: { cached: 0, computed: 45, failed: 0 } });
    expect(folder.classMap).toEqual(expect.arrayContaining([{ external: 'melanoma', run: 'mel', count: 15 }]));
    for (const m of ['image', 'metadata', 'fused'] as const) {
      const x = folder.modes[m].auc;
      expect(x.ci[0]).toBeLessThanOrEqual(x.value);
      expect(x.ci[1]).toBeGreaterThanOrEqual(x.value);
      expect(folder.internal![m].auc.value).toBeGreaterThan(0.5);
      expect(folder.difference![m].auc.value).toBeCloseTo(x.value - folder.internal![m].auc.value, 12);
    }
    // The metadata carries the label here (age), as in training: the external metadata model holds up.
    expect(folder.modes.metadata.auc.value).toBeGreaterThan(0.9);
    const rows = parseCsv(fs.readFileSync(out, 'utf8'), 'rows.csv');
    expect(rows.header).toEqual(['image_id', 'label', 'truth', 'p_image', 'p_metadata', 'p_fused', 'missing_fields']);
    expect(rows.rows).toHaveLength(45);
    const truth = rows.rows.map((x) => (x.cells[2] === 'mel' ? 1 : 0));
    const ref = sklearnAuc(
      truth,
      rows.rows.map((x) => Number(x.cells[5])),
    );
    if (ref === null)
      process.stdout.write('scikit-learn not installed: the external AUC is checked against the committed fixture only (test/unit/validation.test.ts)\n');
    else expect(folder.modes.fused.auc.value).toBeCloseTo(ref, 5);
    expect(folder.shift.images!.auc.value).toBeGreaterThanOrEqual(0);
    expect(folder.shift.fields.map((f) => f.field).sort()).toEqual(['age', 'site']);
    expect(folder.shift.prevalence!.external).toBeCloseTo(15 / 45, 12);
  });

  it('reuses the features of an unchanged folder the next time (cached, not computed again), with the same predictions', () => {
    const r = onFolder('--id-column', 'image_id', '--label-column', 'dx', '--patient-column', 'patient_id', '--map-class', 'melanoma=mel,nevus=nev', '--json');
    expect(r.stderr).toBe('');
    const again = JSON.parse(r.stdout) as ValidationReport;
    expect(again.features).toEqual({ cached: 45, computed: 0, failed: 0 });
    const byId = new Map(folder.rows.map((x) => [x.externalId, x.probs.fused[1]!]));
    for (const row of again.rows) expect(Math.abs(row.probs.fused[1]! - byId.get(row.externalId)!)).toBeLessThan(1e-6);
    expect(again).toMatchObject({ grouping: 'patient', trainingPhotos: { count: 0, excluded: true, ids: [] } });
    expect(again.warnings).toEqual([]);
  });

  describe('a folder holding 10 of the run’s training photos, no patient column and an unreadable age', () => {
    let mixed: ValidationReport;
    beforeAll(() => {
      const dir = path.join(tmp.dir, 'mixed-images');
      fs.cpSync(other.images, dir, { recursive: true });
      const strip = (line: string) => line.split(',').filter((_, k) => k !== 2 && k !== 3);
      const rows = fs.readFileSync(other.csv, 'utf8').trim().split('\n').map(strip);
      rows[3]![2] = 'sixty';
      const train = fs.readFileSync(path.join(tmp.dir, 'train.csv'), 'utf8').trim().split('\n').slice(1, 11).map(strip);
      for (const cells of train) {
        const file = fs.readdirSync(path.join(tmp.dir, 'train-images')).find((f) => f.startsWith(`${cells[0]}.`))!;
        fs.copyFileSync(path.join(tmp.dir, 'train-images', file), path.join(dir, `TRAIN_${file}`));
        rows.push([`TRAIN_${cells[0]}`, ...cells.slice(1)]);
      }
      fs.writeFileSync(path.join(tmp.dir, 'mixed.csv'), rows.map((c) => c.join(',')).join('\n') + '\n');
      const r = runCli([
        'validate',
        trainDir,
        '--run',
        String(runId),
        '--images',
        dir,
        '--metadata',
        path.join(tmp.dir, 'mixed.csv'),
        '--id-column',
        'image_id',
        '--label-column',
        'dx',
        '--positive',
        'melanoma,mel',
        '--json',
      ]);
      expect(r.stderr).toBe('');
      mixed = JSON.parse(r.stdout);
    });

    it('finds the training photos by content, warns naming them, and leaves them out of the figures', () => {
      expect(mixed.trainingPhotos).toMatchObject({ count: 10, excluded: true });
      expect(mixed.trainingPhotos!.ids.every((id) => id.startsWith('TRAIN_'))).toBe(true);
      expect(mixed.images).toBe(45);
      expect(mixed.rows.some((x) => x.externalId.startsWith('TRAIN_'))).toBe(false);
      expect(
        mixed.warnings.some((w) => /^10 of the 55 external images are training photos of this run .*TRAIN_IMG_00000.*left out of every figure/.test(w)),
      ).toBe(true);
    });

    it('says the bootstrap is image-level when the external set has no patient column', () => {
      expect(mixed.grouping).toBe('image');
      expect(mixed.groups).toBe(45);
      expect(mixed.warnings.some((w) => /no patient column: its images are treated as independent/.test(w))).toBe(true);
    });

    it('carries the import’s problems with the external CSV into the warnings, with line and column', () => {
      expect(mixed.warnings.some((w) => /found \d+ problems?.*mixed\.csv line 4, column age/.test(w))).toBe(true);
    });
  });

  it('names an external class the run does not know, on the command line, and exits 2', () => {
    const r = onFolder('--label-column', 'dx', '--patient-column', 'patient_id');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/External classes the run does not know: "nevus" \(30\), "melanoma" \(15\)/);
  });

  it('reuses the features another project cached under the same backbone, and gives the same predictions', async () => {
    const p = Project.create(other.project).project;
    await importGeneric(p, other.images, other.csv, 'dx');
    await extractFeatures(p, model, { workers: 1 });
    p.close();
    const r = runCli(['validate', trainDir, '--run', String(runId), '--on', other.project, '--map-class', 'melanoma=mel,nevus=nev', '--json']);
    expect(r.stderr).toBe('');
    const onProject = JSON.parse(r.stdout) as ValidationReport;
    expect(onProject.features).toEqual({ cached: 45, computed: 0, failed: 0 });
    const byId = new Map(folder.rows.map((x) => [x.externalId, x.probs.fused[1]!]));
    for (const row of onProject.rows) expect(Math.abs(row.probs.fused[1]! - byId.get(row.externalId)!)).toBeLessThan(1e-5);
    const list = runCli(['validations', trainDir, '--run', String(runId), '--json']);
    // The folder twice, the mixed folder and this project.
    expect(JSON.parse(list.stdout).validations).toHaveLength(4);
    const exported = path.join(tmp.dir, 'v.json');
    expect(runCli(['validations', trainDir, '--id', String(folder.id), '--out', exported]).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(exported, 'utf8'))).toMatchObject({ runId, images: 45 });
  });

  it('names each photo that could not be embedded with its own error, and counts only the embedded ones as computed', async () => {
    const dir = path.join(tmp.dir, 'broken-images');
    fs.cpSync(other.images, dir, { recursive: true });
    const p = Project.create(path.join(tmp.dir, 'broken')).project;
    await importGeneric(p, dir, other.csv, 'dx');
    p.close();
    // Gone after the import: the embedding, not the import, fails on them.
    const gone = fs.readdirSync(dir).filter((f) => /^IMG_0000[37]\./.test(f));
    for (const f of gone) fs.rmSync(path.join(dir, f));
    const r = runCli(['validate', trainDir, '--run', String(runId), '--on', path.join(tmp.dir, 'broken'), '--map-class', 'melanoma=mel,nevus=nev', '--json']);
    expect(r.stderr).toBe('');
    const v = JSON.parse(r.stdout) as ValidationReport;
    expect(v.features).toEqual({ cached: 0, computed: 43, failed: 2 });
    const failed = v.warnings.filter((w) => w.endsWith('; left out'));
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatch(/^IMG_00003: .*IMG_00003/);
    expect(failed[1]).toMatch(/^IMG_00007: .*IMG_00007/);
  });

  it('validates the exported bundle with the predictions predict gives, and the run’s internal figures beside them', async () => {
    const b = await validateBundle(
      path.join(tmp.dir, 'bundle'),
      { kind: 'folder', imagesDir: other.images, metadataPath: other.csv, idColumn: 'image_id', labelColumn: 'dx', patientColumn: 'patient_id' },
      { positive: ['melanoma'] },
    );
    const predicted = await predictWithBundle(path.join(tmp.dir, 'bundle'), other.images, { metadataPath: other.csv, idColumn: 'image_id' });
    const byId = new Map(predicted.rows.map((x) => [x.imageId, x.probabilities.mel!]));
    expect(b.rows).toHaveLength(45);
    for (const row of b.rows) expect(Math.abs(row.probs.fused[1]! - byId.get(row.externalId)!)).toBeLessThan(1e-6);
    expect(b.modes.fused.auc.value).toBeCloseTo(folder.modes.fused.auc.value, 5);
    expect(b.internal!.fused.auc.value).toBe(folder.internal!.fused.auc.value);
    expect(b.shift.images).toBeNull();
  });

  it('lists every validation of the run in the model card of a bundle exported since (one exported before says none yet)', async () => {
    expect(fs.readFileSync(path.join(tmp.dir, 'bundle', 'MODEL_CARD.md'), 'utf8')).toMatch(/## External validation\nNone yet/);
    const p = Project.open(trainDir);
    try {
      await exportBundle(p, runId, 'fused', path.join(tmp.dir, 'bundle2'));
    } finally {
      p.close();
    }
    const card = fs.readFileSync(path.join(tmp.dir, 'bundle2', 'MODEL_CARD.md'), 'utf8');
    // The folder twice, the mixed folder, the other project and the broken one.
    expect(card.match(/^### \d{4}-\d{2}-\d{2}: /gm)).toHaveLength(5);
    expect(card).toMatch(/\| fused \(this model\) \| [01]\.\d{3} \([01]\.\d{3}–[01]\.\d{3}\) \| [01]\.\d{3} \(/);
    expect(card).toContain('Photos: training and external images told apart with AUC');
    // The mixed folder held training photos and no patient column: the card says both.
    expect(card).toMatch(/\d+ of the set's photos are photos this run was trained on: left out of these figures\./);
    expect(card).toContain('unknown patients (no patient column: intervals by image, possibly too narrow)');
    expect(card).not.toMatch(/ \/tmp\//);
  });
});
