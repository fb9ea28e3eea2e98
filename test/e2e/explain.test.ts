import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { Project } from '../../src/main/project.ts';
import { makeImages, tempDir } from '../fixtures/generate.ts';
import { importGeneric } from '../fixtures/project.ts';
import { makeTinyLayersModel } from '../fixtures/tinyModel.ts';
import { servedPage, type Served, type ServedPage } from './serveProject.ts';

const tmp = tempDir('dermfuse-e2e-explain-');
let served: Served;
let page: Page;
let session: ServedPage;
let runId: number;

beforeAll(async () => {
  // A run trained on a tiny real backbone (its files on disk, so occlusion maps can be computed) and two fields.
  const images = path.join(tmp.dir, 'images');
  const fakes = await makeImages(images, 40, 4, 32);
  const csv = path.join(tmp.dir, 'meta.csv');
  const lines = ['image_id,dx,patient_id,lesion_id,age,site'];
  fakes.forEach((f, i) => lines.push(`${f.id},${i % 2 ? 'mel' : 'nev'},${f.patient},${f.lesion},${i % 2 ? 60 + (i % 9) : 30 + (i % 13)},${f.site}`));
  fs.writeFileSync(csv, lines.join('\n') + '\n');
  const p = Project.create(path.join(tmp.dir, 'project')).project;
  await importGeneric(p, images, csv, 'dx');
  const model = path.join(tmp.dir, 'tiny');
  await makeTinyLayersModel(model);
  await extractFeatures(p, model, { workers: 1 });
  runId = (await trainRun(p, { label: 'dx', positive: ['mel'], fields: ['age', 'site'], group: 'patient', folds: 3, backbone: null, seed: 2 })).runId;
  const dir = p.dir;
  p.close();
  session = await servedPage(dir, tmp.dir, { acceptDownloads: true });
  ({ served, page } = session);
}, 150_000);
afterAll(async () => {
  await session?.close();
  tmp.cleanup();
});

describe('explanations in serve mode', () => {
  it('opens a case, reads its waterfall, toggles the heatmap over the photo and exports it as a PNG; the report shows what the model relies on', async () => {
    await page.goto(served.server.url);
    await page.getByTestId('nav-results').click();
    await page.getByTestId(`run-${runId}`).click();
    await page.getByTestId('tab-importance').click();
    await expect.poll(() => page.getByTestId('importance-table').locator('tbody tr').count()).toBe(3);
    expect(await page.getByTestId('importance-age').textContent()).toMatch(/^age-?\d\.\d{3}\[-?\d\.\d{3}, -?\d\.\d{3}\]$/);
    await expect.poll(() => page.getByTestId('chart-importance').count()).toBe(1);

    await page.getByTestId('tab-confusion').click();
    await page.getByTestId('case-filter').getByText('All', { exact: true }).click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toBe('40 images');
    const panel = page.getByTestId('case-detail');
    await expect.poll(() => panel.getByTestId('waterfall').count()).toBe(1);
    expect(await panel.getByTestId('waterfall-base').textContent()).toMatch(/^base 0\.\d\d \(the average patient\)$/);
    for (const block of ['age', 'site', 'image']) expect(await panel.getByTestId(`waterfall-${block}`).textContent()).toMatch(/[+-]\d+\.\d\d→ [01]\.\d\d$/);
    expect(await panel.getByTestId('waterfall-method').textContent()).toMatch(/exact decomposition|replaced by its training reference/);
    // Where each step lands ("→ 0.08") keeps one line beside its bar in the narrow case panel.
    const heights = await panel.getByTestId('waterfall-step-p').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
    expect(heights.length).toBeGreaterThanOrEqual(3);
    for (const h of heights) expect(h).toBeLessThan(24);
    expect(await panel.getByTestId('heatmap-overlay').count()).toBe(0);

    await panel.getByTestId('heatmap-toggle').click({ force: true });
    await expect.poll(() => panel.getByTestId('heatmap-overlay').count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => panel.getByTestId('heatmap-legend').textContent()).toMatch(/hiding that part lowers P\((not mel|mel)\) most/);
    expect(await panel.getByTestId('heatmap-overlay').getAttribute('style')).toMatch(/opacity: 0\.6;/);
    // The slider: one step down with the keyboard.
    await panel.getByTestId('heatmap-opacity').locator('[role=slider]').focus();
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => panel.getByTestId('heatmap-overlay').getAttribute('style')).toMatch(/opacity: 0\.55;/);

    const [png] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('heatmap-export').click()]);
    expect(png.suggestedFilename()).toMatch(/^IMG_\d{5}-run\d+-fused-heatmap\.png$/);
    expect(
      fs
        .readFileSync((await png.path())!)
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const cached = served.read((p) => p.db.prepare('SELECT COUNT(*) FROM occlusion_maps WHERE run_id = ?').pluck().get(runId));
    expect(cached).toBe(1);

    await panel.getByTestId('heatmap-toggle').click({ force: true });
    await expect.poll(() => panel.getByTestId('heatmap-overlay').count()).toBe(0);
  });

  it('lays the map over the lesion view, where it zooms with the photo', async () => {
    await page.getByTestId('nav-browse').click();
    await page.getByTestId('cell-IMG_00003').click();
    await expect.poll(() => page.getByTestId('detail-id').textContent()).toBe('IMG_00003');
    await page.getByTestId('lesion-heatmap-toggle').click({ force: true });
    const overlay = page.getByTestId('image-panel').getByTestId('heatmap-overlay');
    await expect.poll(() => overlay.count(), { timeout: 30_000 }).toBe(1);
    const photo = (await page.getByTestId('zoom-box').locator('img').boundingBox())!;
    const map = (await overlay.boundingBox())!;
    // A square photo fitted into the box: the map covers exactly its fitted square.
    expect(Math.abs(map.height - Math.min(photo.width, photo.height))).toBeLessThan(2);
  });
});
