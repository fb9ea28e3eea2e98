import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finetuneProject } from '../fixtures/finetuneProject.ts';
import { tempDir } from '../fixtures/generate.ts';
import { jobState } from './browser.ts';
import { servedPage, type Served, type ServedPage } from './serveProject.ts';

const tmp = tempDir();
let served: Served;
let page: Page;
let session: ServedPage;

beforeAll(async () => {
  // Generated photos with the tiny network's features; both runs are trained through the UI.
  const { project } = await finetuneProject(tmp.dir);
  const dir = project.dir;
  project.close();
  session = await servedPage(dir, tmp.dir);
  ({ served, page } = session);
}, 180_000);
afterAll(async () => {
  await session?.close();
  tmp.cleanup();
});

const runRows = () =>
  served.read((p) => p.db.prepare(`SELECT id, status, json_extract(config, '$.finetune') IS NOT NULL AS tuned FROM runs ORDER BY id`).all()) as {
    id: number;
    status: string;
    tuned: number;
  }[];

describe('fine-tuning from the training form', () => {
  it('"Train the CNN too": cancelled while caching keeps the form and the frozen run; trained again, it reuses that run and reports both side by side', async () => {
    await page.goto(served.server.url);
    await page.getByTestId('nav-results').click();
    await page.getByRole('switch', { name: 'Train the CNN too' }).click();
    await page.getByTestId('finetune-advanced').click();
    await page.getByTestId('finetune-epochs').fill('2');
    await expect.poll(() => page.getByTestId('finetune-advanced').textContent()).toMatch(/at most 2 epochs/);
    expect(await page.getByTestId('train-start').textContent()).toBe('Train frozen, then fine-tuned');

    // The frozen run first, then the frozen trunk's views cached (then epochs per fold): cancel while caching.
    await page.getByTestId('train-start').click();
    await expect
      .poll(() => page.getByTestId('job-text').textContent(), { timeout: 120_000, interval: 100 })
      .toMatch(/caching views \d+\/48 \(\d+%\) · .* · caching 8 views of the frozen trunk: \d+ of 48 images$/);
    await page.getByTestId('job-cancel').click();
    await expect.poll(() => jobState(page), { timeout: 60_000 }).toBe('train cancelled');
    expect(runRows()).toEqual([{ id: 1, status: 'done', tuned: 0 }]);
    // The form stays open with the choices made, beside the frozen run it finished.
    expect(await page.getByTestId('finetune-advanced').textContent()).toMatch(/at most 2 epochs/);
    await expect.poll(() => page.getByTestId('run-1').count()).toBe(1);

    await page.getByTestId('train-start').click();
    await expect.poll(() => jobState(page), { timeout: 180_000 }).toBe('train done');
    // The frozen run 1 was reused (no second one trained) and is the baseline of the comparison.
    expect(runRows()).toEqual([
      { id: 1, status: 'done', tuned: 0 },
      { id: 2, status: 'done', tuned: 1 },
    ]);
    await expect.poll(() => page.getByTestId('finetune-compare').count()).toBe(1);
    expect(await page.getByTestId('finetune-compare').textContent()).toContain('Fine-tuned vs frozen (run #1, the same folds)');
    for (const m of ['image', 'fused'])
      expect(await page.getByTestId(`finetune-${m}`).textContent()).toMatch(
        /^(Image only|Fused)[01]\.\d{3}[01]\.\d{3}[+-][01]\.\d{3}\[[+-][01]\.\d{3}, [+-][01]\.\d{3}\](< 0\.001|[01]\.\d{3})$/,
      );
    expect(await page.getByTestId('finetune-what').textContent()).toMatch(
      /after c6_out \(4 of 11 convolutions of .*\).*8 views per image.*of at most 2 \(early stopping/,
    );
    expect(await page.getByTestId('finetuned-2').textContent()).toBe('fine-tuned');
    // The fine-tuned network's features are not offered for a new run (they have seen the labels): the form keeps the base's.
    expect(await page.getByTestId('train-start').count()).toBe(0); // the form folded away for the report
    await page.getByTestId('new-run-toggle').click();
    const picker = page.getByTestId('train-backbone').locator('xpath=ancestor::*[contains(@class, "mantine-MultiSelect-input")][1]');
    // The form's feature sets arrive after it opens.
    await expect.poll(() => picker.textContent()).toBe('tiny-mobilenet (32-d, 48 images)');
    await picker.click();
    await expect.poll(() => page.getByRole('option').allTextContents()).toEqual(['tiny-mobilenet (32-d, 48 images)']);
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('finetuned-1').count()).toBe(0);

    // Side by side with its frozen run in the comparison table.
    await page.getByTestId('compare-1').check();
    await page.getByTestId('compare-2').check();
    await expect.poll(() => page.getByTestId('compare-table').textContent()).toContain('Fine-tunedfrom c6_out (4 of 11 convs), vs run #1no (frozen features)');

    // The views it cached are listed under the fine-tuning options, and removed from disk after asking.
    await page.getByRole('switch', { name: 'Train the CNN too' }).click();
    await page.getByTestId('finetune-advanced').click();
    await expect
      .poll(() => page.getByTestId('finetune-cache').allTextContents())
      .toEqual([expect.stringMatching(/^tiny-mobilenet from c6_out, 8 views: 48 images · [\d.]+ KB · last used .*Remove$/)]);
    const cacheRoot = served.read((p) => path.join(p.dir, 'cache', 'finetune'));
    expect(fs.readdirSync(cacheRoot)).toHaveLength(1);
    await page.getByTestId('finetune-cache-remove').click();
    await page.getByTestId('finetune-cache-confirm').click();
    await expect.poll(() => page.getByTestId('finetune-caches').textContent()).toMatch(/None yet/);
    expect(fs.readdirSync(cacheRoot)).toEqual([]);
  });
});
