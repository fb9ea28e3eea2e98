import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { getValidation } from '../../src/main/validation/stored.ts';
import { labelIssues } from '../../src/main/results/cases.ts';
import { FEATURE_KEY, fusionProject } from '../fixtures/fusionData.ts';
import { tempDir } from '../fixtures/generate.ts';
import { jobState } from './browser.ts';
import { servedPage, type Served, type ServedPage } from './serveProject.ts';

const tmp = tempDir();
let served: Served;
let page: Page;
let session: ServedPage;
let runId: number;
let otherDir: string;

beforeAll(async () => {
  // A trained run, and another clinic's project of the same kind whose melanoma class is spelt otherwise; both carry
  // features under the same backbone configuration, so the validation reads them from the other project's cache.
  const p = await fusionProject(path.join(tmp.dir, 'a'), 160, 21);
  runId = (await trainRun(p, { label: 'diagnosis_label', positive: ['MEL'], fields: null, group: 'patient', folds: 4, backbone: FEATURE_KEY, seed: 3 })).runId;
  const dir = p.dir;
  p.close();
  const other = await fusionProject(path.join(tmp.dir, 'b'), 120, 44);
  other.db.prepare(`UPDATE classes SET name = 'melanoma' WHERE name = 'MEL'`).run();
  otherDir = other.dir;
  other.close();
  session = await servedPage(dir, tmp.dir);
  ({ served, page } = session);
}, 180_000);
afterAll(async () => {
  await session?.close();
  tmp.cleanup();
});

describe('external validation in serve mode', () => {
  it('validates a run on another project from its report: maps the classes, then shows the figures beside the internal ones and the shift', async () => {
    await page.goto(served.server.url);
    await page.getByTestId('nav-results').click();
    await page.getByTestId(`run-${runId}`).click();
    await page.getByTestId('tab-validation').click();
    await page.getByTestId('validate-new').click();
    await page.getByTestId('validate-dir').fill(otherDir);
    await page.getByTestId('validate-read').click();
    // NEV is the run's own class (negative); "melanoma" is not: it must be chosen, and an unchosen class is refused.
    await expect.poll(() => page.getByTestId('map-class-NEV').inputValue()).toBe('counts as not MEL');
    expect(await page.getByTestId('map-class-melanoma').inputValue()).toBe('');
    await page.getByTestId('validate-start').click();
    await expect.poll(() => page.getByTestId('validate-error').textContent()).toContain('melanoma');
    await page.getByTestId('map-class-melanoma').click();
    await page.getByRole('option', { name: 'counts as MEL', exact: true }).click();
    await page.getByTestId('validate-recalibrate').check();
    await page.getByTestId('validate-start').click();
    await expect.poll(() => jobState(page), { timeout: 120_000 }).toBe('validate done');
    await expect.poll(() => page.getByTestId('validation-report').count()).toBe(1);
    const stored = served.read((p) => {
      const id = p.db.prepare('SELECT MAX(id) FROM validations').pluck().get() as number;
      return getValidation(p, id);
    });
    expect(stored.features).toEqual({ cached: 120, computed: 0, failed: 0 });
    expect(stored.classMap).toEqual(expect.arrayContaining([expect.objectContaining({ external: 'melanoma', run: 'MEL' })]));
    const f3 = (x: number) => x.toFixed(3);
    const fused = await page.getByTestId('validation-mode-fused').textContent();
    expect(fused).toContain(`fused${f3(stored.internal!.fused.auc.value)} [`);
    expect(fused).toContain(f3(stored.modes.fused.auc.value));
    expect(fused).toContain(f3(stored.difference!.fused.auc.value));
    await expect.poll(() => page.getByTestId('shift-age').textContent()).toMatch(/^agemean \d+\.\d{3} → \d+\.\d{3}/);
    expect(await page.getByTestId('shift-images').textContent()).toContain(f3(stored.shift.images!.auc.value));
    // The external ROC and calibration beside the run's, the subgroups table, the recalibration apart, the label errors.
    await expect.poll(() => page.getByTestId('validation-curves').locator('canvas, svg').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    // Each mode's calls at the run's operating point, and the fused confusion matrix.
    const op = stored.modes.fused.operating!;
    expect(await page.getByTestId('external-operating').locator('tbody tr').nth(2).textContent()).toBe(
      `fused${f3(op.sensitivity)}${f3(op.specificity)}${f3(op.ppv)}${f3(op.npv)}`,
    );
    await expect.poll(() => page.getByTestId('external-confusion').locator('canvas, svg').count()).toBeGreaterThanOrEqual(1);
    const sub = stored.subgroups.rows.find((x) => x.field === stored.subgroups.rows[0]!.field && !x.tooFew)!;
    expect(await page.getByTestId(`subgroup-row-${sub.group}`).textContent()).toContain(f3(sub.modes.fused.auc!.value));
    const rc = stored.recalibration!;
    expect(rc.fraction).toBe(0.3);
    expect(await page.getByTestId('recalibration-fused').textContent()).toContain(
      `${f3(rc.modes.fused.before.calibrationError)} → ${f3(rc.modes.fused.after.calibrationError)}`,
    );
    const first = stored.labelIssues![0];
    if (first) expect(await page.getByTestId(`validation-issue-${first.externalId}`).textContent()).toContain(f3(first.pLabel.fused));
    else expect(await page.getByTestId('validation-report').textContent()).toContain('No likely label errors');
  });

  it('names the stored diagnosis beside the target of a likely label error (the run trained on MEL vs the rest)', async () => {
    const issues = served.read((p) => labelIssues(p, runId));
    expect(issues.length).toBeGreaterThan(0);
    await page.goto(served.server.url);
    await page.getByTestId('nav-results').click();
    await page.getByTestId(`run-${runId}`).click();
    await page.getByTestId('tab-issues').click();
    await expect.poll(() => page.getByTestId('issue-table').locator('tbody tr').count()).toBe(issues.length);
    for (const x of issues) expect(await page.getByTestId(`issue-diagnosis-${x.externalId}`).textContent()).toBe(x.currentLabel ?? 'unlabelled');
    expect(issues.every((x) => x.currentLabel === 'MEL' || x.currentLabel === 'NEV')).toBe(true);
  });
});
