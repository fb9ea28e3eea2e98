import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { Project } from '../../src/main/project.ts';
import { validationPlan } from '../../src/main/validation/plan.ts';
import { scratchFolder } from '../../src/main/validation/validateRun.ts';
import { MODES } from '../../src/shared/results.ts';
import type { ValidationReport } from '../../src/shared/validation.ts';
import { runCli } from '../fixtures/cli.ts';
import { tempDir } from '../fixtures/generate.ts';
import { labelledSet, trainedRun, SEPARATED, type RowRule } from '../fixtures/validationSets.ts';

const tmp = tempDir();
const trainDir = path.join(tmp.dir, 'train');
const model = path.join(tmp.dir, 'tiny');
const ext = { images: path.join(tmp.dir, 'ext-images'), csv: path.join(tmp.dir, 'ext.csv') };
const folder = { kind: 'folder' as const, imagesDir: ext.images, metadataPath: ext.csv, labelColumn: 'dx', patientColumn: 'patient_id' };
const N = 120;
/** Positives labelled negative: aged 66, where every model is surest of positive. */
const FLIPPED = [6, 27, 48, 69];
const recal = { images: path.join(tmp.dir, 'recal-images'), first: path.join(tmp.dir, 'recal-first.csv'), csv: path.join(tmp.dir, 'recal.csv') };
const RECAL_N = 300;
/** The planted miscalibration: external truth drawn with P(positive) = σ(SLOPE · logit p + SHIFT) of the run's fused p. */
const SLOPE = 0.5;
const SHIFT = 1;
let runId: number;

/** The training rule with FLIPPED labels wrong. */
const flippedRule: RowRule = (i) => {
  const row = SEPARATED(i);
  return FLIPPED.includes(i) ? { ...row, positive: false } : row;
};

/** Ages spread evenly over 30–66, labels alternating (they only make the first validation run; the truth is drawn after). */
const spreadRule: RowRule = (i) => ({ positive: i % 2 === 0, age: 30 + ((i * 7) % 37) });

/** dermfuse validate of the run on a folder, binary by --positive melanoma, as JSON. */
function validateJson(images: string, csv: string, ...more: string[]): ValidationReport {
  const r = runCli(
    ['validate', trainDir, '--run', String(runId), '--images', images, '--metadata', csv, '--label-column', 'dx', '--patient-column', 'patient_id'].concat([
      '--positive',
      'melanoma',
      '--json',
      ...more,
    ]),
  );
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as ValidationReport;
}

beforeAll(async () => {
  const trained = await trainedRun(trainDir, model, tmp.dir);
  const project = trained.project;
  runId = trained.runId;
  project.close();
  await labelledSet(ext.images, ext.csv, N, 41, ['melanoma', 'nevus'], flippedRule);
  await labelledSet(recal.images, recal.first, RECAL_N, 43, ['melanoma', 'nevus'], spreadRule);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('validations.plan on an image folder', () => {
  it('answers from the CSV and the folder listing alone: classes and fields to map, nothing imported or decoded', async () => {
    const project = Project.open(trainDir);
    try {
      const scratch = scratchFolder(project);
      const t0 = performance.now();
      const plan = await validationPlan(project, runId, folder);
      const ms = performance.now() - t0;
      process.stdout.write(`validations.plan on ${N} photos: ${ms.toFixed(0)} ms\n`);
      expect(fs.existsSync(scratch)).toBe(false);
      const csvRows = fs.readFileSync(ext.csv, 'utf8').trim().split('\n').slice(1);
      const positives = csvRows.filter((r) => r.split(',')[1] === 'melanoma').length;
      expect(plan.external.images).toBe(N);
      expect(plan.external.classes).toEqual(
        expect.arrayContaining([
          { name: 'melanoma', count: positives },
          { name: 'nevus', count: N - positives },
        ]),
      );
      expect(plan.external.fields.map((f) => f.name).sort()).toEqual(['age', 'site']);
      expect(plan.suggested.fieldMap).toEqual({ age: 'age', site: 'site' });
    } finally {
      project.close();
    }
  });

  it('names the CSV when it has no label column', async () => {
    const bad = path.join(tmp.dir, 'nolabel.csv');
    fs.writeFileSync(bad, 'image_id,age\nIMG_00000,40\n');
    const project = Project.open(trainDir);
    try {
      await expect(validationPlan(project, runId, { kind: 'folder', imagesDir: ext.images, metadataPath: bad })).rejects.toThrow(/nolabel\.csv/);
    } finally {
      project.close();
    }
  });
});

describe('dermfuse validate --recalibrate', () => {
  let report: ValidationReport;
  beforeAll(() => {
    // The run's fused p of each image does not depend on the labels: score once, then draw the truth from it.
    const first = validateJson(recal.images, recal.first);
    const rand = rngFrom(7);
    const truth = new Map(
      first.rows.map((r) => {
        const p = Math.min(1 - 1e-9, Math.max(1e-9, r.probs.fused[1]!));
        return [r.externalId, rand() < 1 / (1 + Math.exp(-(SLOPE * Math.log(p / (1 - p)) + SHIFT)))];
      }),
    );
    const lines = fs.readFileSync(recal.first, 'utf8').trim().split('\n');
    const relabelled = lines.slice(1).map((l) => {
      const cells = l.split(',');
      cells[1] = truth.get(cells[0]!) ? 'melanoma' : 'nevus';
      return cells.join(',');
    });
    fs.writeFileSync(recal.csv, [lines[0], ...relabelled].join('\n') + '\n');
    report = validateJson(recal.images, recal.csv, '--recalibrate', '0.3');
  }, 240_000);

  it('fits on a patient-grouped 30% slice and reports the rest apart: a planted miscalibration is corrected, the AUC unchanged', () => {
    const rc = report.recalibration!;
    expect(rc.fit.images).toBeGreaterThanOrEqual(0.3 * RECAL_N);
    expect(rc.fit.images + rc.heldOut.images).toBe(RECAL_N);
    for (const m of MODES) expect(rc.modes[m].after.auc).toBeCloseTo(rc.modes[m].before.auc, 12);
    const f = rc.modes.fused;
    process.stdout.write(
      `fused, held out: ECE ${f.before.calibrationError.toFixed(3)} → ${f.after.calibrationError.toFixed(3)}, Brier ${f.before.brier.toFixed(3)} → ${f.after.brier.toFixed(3)}; fitted slope ${f.slope.toFixed(2)} (planted ${SLOPE}), intercept ${f.intercept.toFixed(2)} (planted ${SHIFT})\n`,
    );
    expect(f.after.calibrationError).toBeLessThan(f.before.calibrationError);
    expect(f.after.brier).toBeLessThan(f.before.brier);
    // Overconfident by construction: the fitted map flattens the scores and raises them.
    expect(f.slope).toBeLessThan(1);
    expect(f.intercept).toBeGreaterThan(0);
    // The report's own figures are of every external image, untouched.
    expect(report.images).toBe(RECAL_N);
  });

  it('refuses a fraction outside (0, 1) by name and exits 2', () => {
    const r = runCli(['validate', trainDir, '--run', String(runId), '--images', ext.images, '--metadata', ext.csv, '--recalibrate', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--recalibrate "1\.5"/);
  });
});

describe('likely label errors of the external set', () => {
  it('ranks the planted wrong labels first, with each mode’s p of the given label', () => {
    const report = validateJson(ext.images, ext.csv);
    const issues = report.labelIssues!;
    const planted = FLIPPED.map((i) => `IMG_${String(i).padStart(5, '0')}`);
    expect(
      issues
        .slice(0, FLIPPED.length)
        .map((x) => x.externalId)
        .sort(),
    ).toEqual(planted);
    for (const x of issues.slice(0, FLIPPED.length)) {
      expect(x).toMatchObject({ label: 'nevus', truth: 'not mel', suggested: 'mel' });
      expect(x.pLabel.fused).toBeLessThan(0.5);
      const row = report.rows.find((r) => r.externalId === x.externalId)!;
      for (const m of MODES) expect(x.pLabel[m]).toBeCloseTo(row.probs[m][0]!, 3);
    }
  }, 120_000);
});
