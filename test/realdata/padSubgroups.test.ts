import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle } from '../../src/main/ml/bundle/exportBundle.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { loadRunData } from '../../src/main/ml/fusion/runData.ts';
import { runSubgroups } from '../../src/main/ml/fusion/subgroups.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { HAS_PAD, PAD_DIR, padCancerRun } from '../fixtures/shared.ts';

describe.skipIf(!HAS_PAD)('subgroups of a PAD-UFES-20 run (686 photos, built-in MobileNetV2-0.35)', () => {
  const tmp = tempDir();
  let project: Project;
  let runId: number;

  beforeAll(async () => {
    const dir = path.join(tmp.dir, 'pad');
    await importedProject(dir, path.join(PAD_DIR, 'images'), path.join(PAD_DIR, 'metadata.csv'));
    project = Project.open(dir);
    await extractFeatures(project, SMALL_BUILT_IN_BACKBONE);
    // Cancer vs not from age and region only: Fitzpatrick type is not an input, and must still be sliced.
    runId = (await trainRun(project, padCancerRun())).runId;
  }, 600_000);
  afterAll(() => {
    project?.close();
    tmp.cleanup();
  });

  it('slices by Fitzpatrick type first (1-6 and missing) although the model did not use it', () => {
    const t = runSubgroups(project, loadRunData(project, runId));
    expect(t.rows[0]!.field).toBe('fitspatrick');
    expect(t.rows.filter((r) => r.field === 'fitspatrick').map((r) => r.group)).toEqual(['1', '2', '3', '4', '5', '6', 'missing']);
    expect(t.notInModel).toContain('fitspatrick');
    expect(t.notInModel).not.toContain('age');
    const two = t.rows.find((r) => r.field === 'fitspatrick' && r.group === '2')!;
    expect(two.tooFew).toBe(false);
    expect(two.modes.fused.auc!.ci[0]).toBeLessThan(two.modes.fused.auc!.value);
    expect(t.rows.find((r) => r.field === 'fitspatrick' && r.group === '6')).toMatchObject({ n: 1, tooFew: true });
    expect(t.summary).toMatch(/^Worst subgroup \(fused\): /);
    process.stdout.write(`PAD subgroups: ${t.summary}\n`);
  });

  it('puts the table, the unused fields and p-values below 0.001 as such in the model card', async () => {
    const out = path.join(tmp.dir, 'bundle');
    await exportBundle(project, runId, 'fused', out);
    const card = fs.readFileSync(path.join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/Sliced also by fields the model does not use as inputs[^\n]*fitspatrick/);
    expect(card).toMatch(/\| fitspatrick \| 2 \| \d+ \| \d+ \| 0\.\d{3} \| 0\.\d{3}–[01]\.\d{3} \|/);
    expect(card).toMatch(/\| fitspatrick \| 6 \| 1 \| \d \| too few \|/);
    expect(card).not.toMatch(/p = 0\.000/);
  });
});
