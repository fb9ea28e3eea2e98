import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCases } from '../../src/main/results/cases.ts';
import { fusionProject } from '../fixtures/fusionData.ts';
import { tempDir } from '../fixtures/generate.ts';
import { jobState } from './browser.ts';
import { servedPage, type Served, type ServedPage } from './serveProject.ts';

const tmp = tempDir();
let served: Served;
let page: Page;
let session: ServedPage;

beforeAll(async () => {
  // Images, metadata and image features of a generated dataset; the run itself is trained through the UI.
  const p = await fusionProject(tmp.dir, 160, 21);
  const dir = p.dir;
  p.close();
  session = await servedPage(dir, tmp.dir, { acceptDownloads: true });
  ({ served, page } = session);
}, 120_000);
afterAll(async () => {
  await session?.close();
  tmp.cleanup();
});

describe('results in serve mode', () => {
  it('trains from the UI, shows the report, lists exactly the images of a clicked confusion cell, and a relabel marks the run stale', async () => {
    await page.goto(served.server.url);
    await page.getByTestId('nav-results').click();
    // The form in a browser: the backbone field names what this server takes (no URL), the target points to the
    // screen where derived targets are made, and the duplicates choice shows whole at 1280 px.
    const field = (id: string) => page.getByTestId(id).locator('xpath=ancestor::*[contains(@class, "mantine-InputWrapper-root")][1]');
    await expect.poll(() => field('extract-backbone').locator('.mantine-InputWrapper-description').textContent()).toMatch(/this server takes no URLs\.$/);
    expect(await field('train-target').locator('.mantine-InputWrapper-description').textContent()).toMatch(/derived target in Labels & fields\.$/);
    expect(await page.getByTestId('train-duplicates').evaluate((e) => e.scrollWidth - e.clientWidth)).toBeLessThanOrEqual(0);
    expect((await field('extract-backbone').locator('label').boundingBox())!.height).toBeLessThan(24);
    await page.getByTestId('train-start').click();
    await expect.poll(() => jobState(page), { timeout: 120_000 }).toBe('train done');
    await expect.poll(() => page.getByTestId('run-report').count()).toBe(1);
    const runId = served.read((p) => p.db.prepare(`SELECT MAX(id) FROM runs WHERE status = 'done'`).pluck().get()) as number;
    expect(await page.getByTestId('mode-fused').textContent()).toMatch(/AUC 0\.\d{3}95% CI \[0\.\d{3}, [01]\.\d{3}\]/);
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^(Fusing helps|Fused is no better|Fused is worse)/);
    // Every metric explains itself on hover; the training form folds away once a run is open.
    await page.locator('[data-term="Brier"]').first().hover();
    await expect.poll(() => page.getByRole('tooltip').textContent()).toMatch(/from 0 \(perfect\) to 2 \(sure of a wrong class every time\)/);
    expect(await page.getByTestId('train-start').count()).toBe(0);
    await page.getByTestId('tab-curves').click();
    await expect.poll(() => page.getByTestId('chart-roc').locator('canvas').count()).toBeGreaterThan(0);

    await page.getByTestId('tab-confusion').click();
    const box = (await page.getByTestId('chart-confusion').boundingBox())!;
    // The heatmap's grid: 80 px left, 20 right, 20 top, 50 bottom; rows are true classes from the top, columns predicted.
    const cellCentre = (t: number, pr: number) => ({ x: 80 + ((pr + 0.5) * (box.width - 100)) / 2, y: 20 + ((t + 0.5) * (box.height - 70)) / 2 });
    await page.getByTestId('chart-confusion').click({ position: cellCentre(0, 1) });
    await expect.poll(() => page.getByTestId('case-cell').textContent()).toContain('true MEL, fused predicted NEV');
    const expected = served.read((p) => runCases(p, { runId, mode: 'fused', trueClass: 'MEL', predictedClass: 'NEV', filter: 'all', limit: 5000 }));
    expect(expected.total).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('case-count').textContent()).toBe(`${expected.total} images`);
    const rows = await page
      .getByTestId('case-table')
      .locator('tbody tr')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice(5)));
    expect(rows.sort()).toEqual(expected.rows.map((r) => r.externalId).sort());
    // A binary run's P columns are the probability of its second class, named once above them; thumbnails are 44 px.
    expect(await page.getByTestId('p-head').textContent()).toBe('P(NEV)');
    expect(await page.getByTestId('p-head-fused').textContent()).toBe('fused');
    expect(
      await page
        .getByTestId('case-table')
        .locator('tbody img')
        .first()
        .evaluate((e) => e.getBoundingClientRect().width),
    ).toBe(44);
    // At 1280 px (the page's size here) with the form folded, the runs list is narrow and every column of the case
    // table is in view without scrolling sideways.
    expect((await page.getByTestId('runs-table').boundingBox())!.width).toBeLessThanOrEqual(280);
    const table = await page.getByTestId('case-table').evaluate((t) => ({ table: t.scrollWidth, box: t.parentElement!.getBoundingClientRect().width }));
    expect(table.table).toBeLessThanOrEqual(table.box);

    // Relabel the first (worst) image of the cell from the case view.
    const first = expected.rows[0]!;
    await page.getByTestId(`case-${first.externalId}`).click();
    await page.getByTestId('case-relabel-NEV').click();
    await expect
      .poll(() =>
        served.read((p) =>
          p.db
            .prepare(`SELECT c.name AS label, a.source FROM annotations a JOIN classes c ON c.id = a.class_id WHERE a.image_id = ? ORDER BY a.id DESC LIMIT 1`)
            .get(first.imageId),
        ),
      )
      .toEqual({ label: 'NEV', source: 'user' });
    await expect.poll(() => page.getByTestId(`case-changed-${first.externalId}`).textContent()).toBe('now NEV');
    await expect.poll(() => page.getByTestId(`stale-${runId}`).count()).toBe(1);
    // The badge shows its whole word in the narrow runs list.
    const stale = page.getByTestId(`stale-${runId}`).locator('.mantine-Badge-label');
    expect(await stale.evaluate((e) => e.scrollWidth - e.clientWidth)).toBeLessThanOrEqual(0);
    await expect.poll(() => page.getByTestId('report-stale').textContent()).toContain('1 changed since');

    // Every chart exports as SVG (vector) and PNG.
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-confusion-svg').click()]);
    expect(fs.readFileSync((await svg.path())!, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-confusion-png').click()]);
    expect(
      fs
        .readFileSync((await png.path())!)
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(png.suggestedFilename()).toBe(`run-${runId}-confusion-fused.png`);
  });

  it('shows every subgroup of a field as a forest plot with intervals and the field’s gap, exportable as SVG and PNG', async () => {
    await page.getByTestId('tab-subgroups').click();
    await page.getByTestId('subgroup-field').click();
    await page.getByRole('option', { name: 'site', exact: true }).click();
    const rows = page.getByTestId('subgroup-table').locator('tbody tr');
    await expect
      .poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid'))))
      .toEqual(['subgroup-row-ARM', 'subgroup-row-BACK', 'subgroup-row-FACE']);
    await expect.poll(() => page.getByTestId('subgroup-row-ARM').textContent()).toMatch(/ARM\d+\d+0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]/);
    await expect.poll(() => page.getByTestId('subgroup-gap-fused').textContent()).toMatch(/^fused: gap 0\.\d{3} \[-?\d\.\d{3}, \d\.\d{3}\]/);
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-subgroups-svg').click()]);
    const text = fs.readFileSync((await svg.path())!, 'utf8');
    for (const g of ['ARM', 'BACK', 'FACE', 'ROC AUC (95% CI)']) expect(text).toContain(g);
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-subgroups-png').click()]);
    expect(
      fs
        .readFileSync((await png.path())!)
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('walks the likely label errors by keyboard: K keeps, R relabels to the suggestion, each an annotation', async () => {
    await page.getByTestId('tab-issues').click();
    const rows = page.getByTestId('issue-table').locator('tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    const ids = await rows.evaluateAll((els) => els.slice(0, 2).map((e) => e.getAttribute('data-testid')!.slice(6)));
    const before = served.read((p) => p.db.prepare('SELECT COUNT(*) FROM label_reviews').pluck().get()) as number;
    await page.keyboard.press('k');
    await expect.poll(() => page.getByTestId(`issue-review-${ids[0]}`).textContent()).toBe('kept');
    await page.keyboard.press('r');
    await expect.poll(() => page.getByTestId(`issue-review-${ids[1]}`).textContent()).toMatch(/^→ /);
    expect(served.read((p) => p.db.prepare('SELECT decision FROM label_reviews ORDER BY id').pluck().all()).slice(before)).toEqual(['keep', 'relabel']);
  });

  it('colours the map by right/wrong and exports it as SVG with that legend', async () => {
    await page.getByTestId('tab-map').click();
    await expect.poll(() => page.getByTestId('chart-map').locator('canvas').count()).toBeGreaterThan(0);
    await page.getByTestId('map-colour').click();
    await page.getByRole('option', { name: 'right / wrong' }).click();
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-map-svg').click()]);
    const text = fs.readFileSync((await svg.path())!, 'utf8');
    expect(text).toContain('right');
    expect(text).toContain('wrong');
  });
});

describe('from results to the browser', () => {
  it('selects every point of the map with a box and opens them in the browser', async () => {
    await page.getByTestId('tab-map').click();
    await expect.poll(() => page.getByTestId('chart-map').locator('canvas').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Box' }).click();
    const box = (await page.getByTestId('chart-map').boundingBox())!;
    // From just inside the plot's top-left corner to its bottom-right (grid 55 left, 35 top, 15 right, 45 bottom).
    await page.mouse.move(box.x + 57, box.y + 37);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width - 16, box.y + box.height - 46, { steps: 5 });
    await page.mouse.up();
    const points = served.read((p) =>
      p.db.prepare(`SELECT COUNT(*) FROM run_predictions WHERE run_id = (SELECT MAX(id) FROM runs WHERE status = 'done')`).pluck().get(),
    ) as number;
    await expect.poll(() => page.getByTestId('map-picked').textContent(), { timeout: 5000 }).toBe(`${points} images selected`);
    await page.getByTestId('map-open').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toMatch(new RegExp(`^${points} of \\d+ shown`));
    await page.getByTestId('nav-results').click();
    await page.getByTestId('run-report').waitFor();
  });

  it('opens the images of a confusion cell in the browser, and only those', async () => {
    await page.getByTestId('tab-confusion').click();
    await page.getByTestId('case-filter').getByText('Wrong', { exact: true }).click();
    const n = Number((await page.getByTestId('case-count').textContent())!.split(' ')[0]);
    expect(n).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Open in browser' }).click();
    const all = served.read((p) => p.db.prepare(`SELECT COUNT(*) FROM images WHERE status = 'ok'`).pluck().get()) as number;
    await expect.poll(() => page.getByTestId('counts').textContent()).toMatch(new RegExp(`^${n} of ${all} shown`));
  });
});
