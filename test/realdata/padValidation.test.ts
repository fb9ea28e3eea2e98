import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, parseCsv } from '../../src/main/files/csv.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { Project } from '../../src/main/project.ts';
import { validateRun } from '../../src/main/validation/validateRun.ts';
import type { ValidationReport } from '../../src/shared/validation.ts';
import { tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { HAS_PAD, PAD_DIR, padCancerRun } from '../fixtures/shared.ts';

/** What a validation's headline figures read like, for the README's worked example. */
function summary(name: string, r: ValidationReport): string {
  const f3 = (x: number) => x.toFixed(3);
  const iv = (x: { value: number; ci: [number, number] }) => `${f3(x.value)} [${f3(x.ci[0])}, ${f3(x.ci[1])}]`;
  const modes = (['image', 'metadata', 'fused'] as const).map(
    (m) => `${m} ${iv(r.internal![m].auc)} → ${iv(r.modes[m].auc)} (diff ${iv(r.difference![m].auc)})`,
  );
  const age = r.shift.fields.find((f) => f.field === 'age')!;
  const p = r.shift.prevalence!;
  return [
    `PAD validation, ${name}: ${r.images} images, ${r.groups} patients`,
    ...modes,
    `age SMD ${f3(age.numbers!.smd)} PSI ${f3(age.psi!)} (${age.level}); image shift AUC ${iv(r.shift.images!.auc)}; least like: ${r.shift.images!.leastLike[0]!.externalId} ${f3(r.shift.images!.leastLike[0]!.similarity)}`,
    `prevalence ${f3(p.train)} → ${f3(p.external)}; fused PPV ${f3(p.modes.fused.internal.ppv)} → ${f3(p.modes.fused.internalAtExternalPrevalence.ppv)} expected, ${f3(r.modes.fused.operating!.ppv)} observed`,
  ].join('\n');
}

describe.skipIf(!HAS_PAD)('external validation on PAD-UFES-20 (half the patients train, the other half validate)', () => {
  const tmp = tempDir();
  let project: Project;
  let runId: number;
  const half = path.join(tmp.dir, 'half-b');
  const shifted = path.join(tmp.dir, 'shifted');
  const shiftedCsv = path.join(tmp.dir, 'shifted.csv');

  beforeAll(async () => {
    // Patients split by the parity of their number: no patient on both sides.
    const table = parseCsv(fs.readFileSync(path.join(PAD_DIR, 'metadata.csv'), 'utf8'), 'metadata.csv');
    const col = (n: string) => table.header.indexOf(n);
    const patientOf = new Map(table.rows.map((r) => [r.cells[col('img_id')]!.replace(/\.png$/, ''), r.cells[col('patient_id')]!]));
    const halfA = path.join(tmp.dir, 'half-a');
    for (const d of [halfA, half, shifted]) fs.mkdirSync(d);
    for (const f of fs.readdirSync(path.join(PAD_DIR, 'images'))) {
      const src = path.join(PAD_DIR, 'images', f);
      const odd = Number(patientOf.get(path.parse(f).name)!.replace(/\D/g, '')) % 2 === 1;
      if (odd) fs.copyFileSync(src, path.join(halfA, f));
      else {
        fs.copyFileSync(src, path.join(half, f));
        // The planted shift: the same photos darkened, as another clinic's camera and lighting might.
        await sharp(src).modulate({ brightness: 0.55 }).jpeg({ quality: 92 }).toFile(path.join(shifted, f));
      }
    }
    // ... and the same patients 20 years older.
    const lines = [table.header.map(csvCell).join(',')];
    for (const r of table.rows) {
      const cells = [...r.cells];
      cells[col('age')] = String(Number(cells[col('age')]) + 20);
      lines.push(cells.map(csvCell).join(','));
    }
    fs.writeFileSync(shiftedCsv, lines.join('\n') + '\n');
    const dir = path.join(tmp.dir, 'train');
    await importedProject(dir, halfA, path.join(PAD_DIR, 'metadata.csv'));
    project = Project.open(dir);
    await extractFeatures(project, SMALL_BUILT_IN_BACKBONE);
    runId = (await trainRun(project, padCancerRun())).runId;
  }, 900_000);
  afterAll(() => {
    project?.close();
    tmp.cleanup();
  });

  it('an unshifted split of the same clinic: images the classifier cannot tell apart (interval covers 0.5), no age shift', async () => {
    const { report } = await validateRun(project, { runId, source: { kind: 'folder', imagesDir: half, metadataPath: path.join(PAD_DIR, 'metadata.csv') } });
    process.stdout.write(`${summary('unshifted other half', report)}\n`);
    const im = report.shift.images!;
    expect(im.auc.ci[0]).toBeLessThanOrEqual(0.5);
    expect(im.auc.ci[1]).toBeGreaterThanOrEqual(0.5);
    expect(report.shift.fields.find((f) => f.field === 'age')!.level).not.toBe('major');
    // The model holds on patients it never saw: the fused AUC's interval overlaps the internal one.
    expect(report.modes.fused.auc.ci[1]).toBeGreaterThan(report.internal!.fused.auc.ci[0]);
  }, 600_000);

  it('the same patients 20 years older in darkened photos: the age SMD and the image two-sample AUC flag it', async () => {
    const { report } = await validateRun(project, { runId, source: { kind: 'folder', imagesDir: shifted, metadataPath: shiftedCsv } });
    process.stdout.write(`${summary('ages +20, photos darkened', report)}\n`);
    const age = report.shift.fields.find((f) => f.field === 'age')!;
    expect(age.numbers!.smd).toBeGreaterThan(1);
    expect(age.level).toBe('major');
    expect(report.shift.images!.auc.ci[0]).toBeGreaterThan(0.8);
    expect(report.shift.fields.find((f) => f.field === 'region')!.level).toBe('none');
  }, 600_000);
});
